/** Reading single records back with their signature checked: what guard and revert rely on. */
import type { LedgerRecord } from "../core/record.js";
import { FailedError } from "../errors.js";
import { isAllowed } from "./allowed-signers.js";
import { verifySshsig } from "./sshsig.js";
import type { Ledger } from "./store.js";
import type { TrustSource } from "./trust.js";

export type RecordCheck = { ok: true; record: LedgerRecord } | { ok: false; reason: string };

export function checkRecord(
  bytes: Buffer | undefined,
  sig: Buffer | undefined,
  trust: TrustSource,
  namespace: string,
): RecordCheck {
  if (!bytes || !sig) return { ok: false, reason: "record or signature missing" };
  let record: LedgerRecord;
  try {
    record = JSON.parse(bytes.toString("utf8")) as LedgerRecord;
  } catch {
    return { ok: false, reason: "record is not valid JSON" };
  }
  const v = verifySshsig(bytes, sig.toString("utf8"), namespace);
  if (!v.ok) return { ok: false, reason: `signature does not verify: ${v.reason}` };
  if (!isAllowed(trust.signers, record.signer, v.publicKeyBlob, namespace, new Date(record.time))) {
    return { ok: false, reason: `signer ${record.signer} is not (or no longer) in allowed_signers` };
  }
  return { ok: true, record };
}

export async function readVerifiedRecord(
  ledger: Ledger,
  tip: string,
  path: string,
  trust: TrustSource,
  namespace: string,
): Promise<LedgerRecord> {
  const files = await ledger.readFiles(tip, [path, `${path}.sig`]);
  const r = checkRecord(files.get(path), files.get(`${path}.sig`), trust, namespace);
  if (!r.ok)
    throw new FailedError(`record ${path} cannot be trusted: ${r.reason}`, {
      hint: "run `optout log --verify`",
    });
  return r.record;
}
