/**
 * `optout log --verify`: every check of ledger.md's verification section, in process. Reports
 * every problem found, first one first; the command names the first bad record.
 */
import type { LedgerRecord } from "../core/record.js";
import { type AllowedSigner, isAllowed } from "./allowed-signers.js";
import { canonicalize } from "./canonical.js";
import type { HistoryEntry } from "./history.js";
import { type SshsigVerdict, verifySshsigAsync } from "./sshsig.js";
import { parseTrailers, recordPath, sha256Ref } from "./store.js";
import { ulidTime } from "./ulid.js";

/** Clock skew tolerated between writers: a record may not claim a time earlier than this before its predecessor. */
const skewMs = 5 * 60_000;

export interface VerifyProblem {
  seq: number | null;
  id: string | null;
  commit: string;
  path: string | null;
  problem: string;
}

export interface VerifyReport {
  ok: boolean;
  records: number;
  tip: string | undefined;
  problems: VerifyProblem[];
}

export interface VerifyInput {
  entries: HistoryEntry[];
  /** Signature checks already under way (startVerifying), one per entry. */
  verdicts?: Promise<SshsigVerdict | undefined>[];
  signers: AllowedSigner[];
  namespace: string;
  /** Whether the tip this clone saw last is still in the branch's history. */
  anchor?: { commit: string; isAncestor: boolean };
}

const recordFile = /^records\/\d{4}\/\d{2}\/\d{2}\/[0-9A-HJKMNP-TV-Z]{26}\.json$/;

/**
 * Checks signatures on libuv's thread pool, a bounded number at a time: ed25519 verification is
 * the cost that dominates, and one core does only ~4,000/s here.
 */
/**
 * Starts checking each entry's signature as readHistory hands it over, on libuv's thread pool,
 * so the ed25519 work overlaps git still reading the branch.
 */
export function startVerifying(namespace: string): {
  onEntry: (e: HistoryEntry, i: number) => void;
  verdicts: Promise<SshsigVerdict | undefined>[];
} {
  const verdicts: Promise<SshsigVerdict | undefined>[] = [];
  return {
    verdicts,
    onEntry: (e, i) => {
      verdicts[i] =
        e.recordBytes && e.sigText
          ? verifySshsigAsync(e.recordBytes, e.sigText, namespace)
          : Promise.resolve(undefined);
    },
  };
}

async function verifyAllSignatures(
  entries: HistoryEntry[],
  namespace: string,
): Promise<(SshsigVerdict | undefined)[]> {
  const out: (SshsigVerdict | undefined)[] = new Array(entries.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < entries.length; i = next++) {
      const e = entries[i]!;
      out[i] =
        e.recordBytes && e.sigText ? await verifySshsigAsync(e.recordBytes, e.sigText, namespace) : undefined;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return out;
}

export async function verifyEntries(input: VerifyInput): Promise<VerifyReport> {
  const verdicts = input.verdicts
    ? await Promise.all(input.verdicts)
    : await verifyAllSignatures(input.entries, input.namespace);
  const problems: VerifyProblem[] = [];
  let prevTime: number | undefined;
  let index = -1;
  let prevCommit: string | undefined;
  let prevBytes: Buffer | undefined;
  let expectedSeq = 1;
  for (const e of input.entries) {
    index++;
    let record: LedgerRecord | undefined;
    const at = (problem: string) =>
      problems.push({
        seq: record?.seq ?? null,
        id: record?.id ?? null,
        commit: e.commit,
        path: e.recordPath ?? null,
        problem,
      });

    if (e.recordBytes) {
      try {
        record = JSON.parse(e.recordBytes.toString("utf8")) as LedgerRecord;
      } catch {
        at("record is not valid JSON");
      }
    }
    // Shape of the commit: one parent (none for genesis), adds exactly its two files.
    const wantParents = prevCommit ? [prevCommit] : [];
    if (e.parents.length !== wantParents.length || e.parents.some((p, i) => p !== wantParents[i])) {
      at(
        e.parents.length > 1
          ? "commit is a merge; the audit branch must be a single chain"
          : `commit's parent is ${e.parents[0]?.slice(0, 12) ?? "none"}, expected ${prevCommit?.slice(0, 12) ?? "none (genesis)"}`,
      );
    }
    const extra = e.changes.filter(
      (c) =>
        !(c.status === "A" && (c.path === e.recordPath || c.path === `${e.recordPath}.sig`)) &&
        !(c.path === "state/active.json" && (c.status === "A" || c.status === "M")),
    );
    for (const c of extra) {
      const what = c.status === "D" ? "deletes" : c.status === "M" ? "modifies" : "adds";
      at(`commit ${what} ${c.path}; a record commit only adds its record and signature`);
    }
    if (!e.recordPath) {
      at("commit adds no record");
    } else if (!e.sigText) {
      at("record has no signature file");
    }
    if (!record || !e.recordBytes) {
      prevCommit = e.commit;
      prevBytes = e.recordBytes;
      expectedSeq++;
      continue;
    }
    const text = e.recordBytes.toString("utf8");
    let canonical: string | undefined;
    try {
      canonical = canonicalize(record);
    } catch {
      canonical = undefined;
    }
    if (canonical !== text) at("record is not in canonical form (RFC 8785)");
    if (record.v !== 1) at(`unknown record version ${String(record.v)}`);
    if (!e.recordPath || !recordFile.test(e.recordPath) || recordPath(record.id).path !== e.recordPath) {
      at(`record id ${record.id} does not match its path`);
    }
    if (record.seq !== expectedSeq) at(`seq is ${record.seq}, expected ${expectedSeq}`);
    const wantPrev = prevBytes ? sha256Ref(prevBytes) : null;
    if (record.prev !== wantPrev) at("prev does not match the hash of the previous record");
    const trailers = parseTrailers(e.message);
    if (trailers["Optout-Seq"] !== String(record.seq) || trailers["Optout-Record"] !== e.recordPath) {
      at("commit trailers do not match the record");
    }
    // The signing time decides which allowed_signers window applies: a retired key must not be
    // able to backdate a record before its valid-before by claiming an early time.
    const time = Date.parse(record.time);
    if (Number.isNaN(time)) at("time is not an ISO 8601 timestamp");
    else {
      if (prevTime !== undefined && time < prevTime - skewMs)
        at("time is earlier than the previous record's");
      try {
        if (ulidTime(record.id) > time + skewMs) at("time is earlier than its id was minted");
      } catch {
        // A malformed id is reported by the path check.
      }
      prevTime = time;
    }
    if (e.sigText) {
      const v = verdicts[index]!;
      if (!v.ok) {
        at(`signature does not verify: ${v.reason}`);
      } else if (
        !isAllowed(input.signers, record.signer, v.publicKeyBlob, input.namespace, new Date(record.time))
      ) {
        at(`signer ${JSON.stringify(record.signer)} with this key is not in allowed_signers`);
      }
    }
    prevCommit = e.commit;
    prevBytes = e.recordBytes;
    expectedSeq++;
  }
  if (input.anchor && !input.anchor.isAncestor) {
    problems.push({
      seq: null,
      id: null,
      commit: input.anchor.commit,
      path: null,
      problem: `history was rewritten: commit ${input.anchor.commit.slice(0, 12)}, the tip this clone saw last, is no longer on the branch (records were dropped or replaced)`,
    });
  }
  return {
    ok: problems.length === 0,
    records: input.entries.length,
    tip: input.entries.at(-1)?.commit,
    problems,
  };
}
