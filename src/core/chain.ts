/**
 * Which commits of the audit branch count at all: the chain rules. A record counts ("is valid")
 * only if its signature verifies with a key allowed_signers lists for the principal it names, at
 * the time it claims; the identity it claims is that principal; it is for this repository; and it
 * takes its place in the chain honestly — it chains onto the last record that counts (or onto a
 * record that never counted, skipping only such records), and claims no time before that record's.
 * Everything else is junk: reported by `log --verify`, believed by nobody, chained past by writers.
 *
 * Pure: the reader verifies signatures (the crypto) and hands over the key that signed; the
 * evaluator (state.ts) decides what each valid record means under the policy in force.
 */
import type { ProviderName } from "./policy.js";
import type { LedgerRecord } from "./record.js";

/**
 * Clock skew tolerated between writers (and between a writer and a reader): a record may claim a
 * time up to this much before the record it follows, and a reader believes a record that claims a
 * time up to this much after its own clock.
 */
export const clockToleranceMs = 5 * 60_000;

/** What allowed_signers (read from the protected default branch) says about keys. */
export interface KeyTrust {
  /** Literal principals allowed_signers lets `key` sign for, in the audit namespace, at `at`. */
  principalsFor(key: Uint8Array, at: Date): string[];
  /** Every key listed for `principal` (any time window): one person's keys. */
  keysOf(principal: string): Uint8Array[];
}

/** One commit of the audit branch, oldest first along its first-parent chain, as a reader found it. */
export interface CommitEntry {
  commit: string;
  /** Problems with the commit itself (a merge, files besides its record, trailers, not canonical). */
  shape: string[];
  /** The record file the commit adds. */
  path?: string;
  /** The record as parsed from its bytes (not yet trusted). */
  record?: LedgerRecord;
  /** `sha256:<hex>` of the record's bytes: what the next record's `prev` names. */
  hash?: string;
  /** The signature check: the key that made it, or why it does not verify. */
  signature?: { ok: true; key: Uint8Array } | { ok: false; reason: string };
}

export interface ChainContext {
  /** The repository records must be for (the policy's `repo`). */
  repo: string;
  provider: ProviderName;
  /** Policy `signers`: forge login → allowed_signers principal. */
  signers: Record<string, string>;
  keys: KeyTrust;
}

/** The last record that counts: where the next one must chain. */
export interface ChainTail {
  hash: string;
  seq: number;
  /** The record's claimed time (ms): later records may not claim an earlier one. */
  time: number;
  id: string;
  /** Position of its commit in the entries. */
  index: number;
}

/** A principal (person) for a forge login or a plain-git principal. */
export function personOf(ctx: Pick<ChainContext, "provider" | "signers">, login: string): string {
  return ctx.provider === "git" ? login : (ctx.signers[login] ?? login);
}

const ulidChars = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** The time a ULID was minted (ms), or NaN when it is not one. */
export function idTime(id: string): number {
  if (!/^[0-9A-HJKMNP-TV-Z]{26}$/.test(id)) return Number.NaN;
  let t = 0;
  for (const c of id.slice(0, 10)) t = t * 32 + ulidChars.indexOf(c);
  return t;
}

/** Where a record lives on the audit branch: `records/YYYY/MM/DD/<id>.json`, by the time in its id. */
export function recordPathOf(id: string): string {
  const d = new Date(idTime(id));
  if (Number.isNaN(d.getTime())) throw new RangeError(`${JSON.stringify(id)} is not a record id`);
  const mm = String(d.getUTCMonth() + 1).padStart(2, "0");
  const dd = String(d.getUTCDate()).padStart(2, "0");
  return `records/${d.getUTCFullYear()}/${mm}/${dd}/${id}.json`;
}

/** Things a record's bytes must hold before anything else is read from it. */
function fieldsProblem(r: LedgerRecord): string | undefined {
  if (r.v !== 1) return `unknown record version ${String(r.v)}`;
  if (typeof r.id !== "string" || Number.isNaN(idTime(r.id))) return "id is not a ULID";
  if (typeof r.signer !== "string" || r.signer === "") return "record names no signer";
  if (!r.actor || typeof r.actor.login !== "string") return "record names no actor";
  if (!Number.isInteger(r.seq) || r.seq < 1) return "seq is not a positive whole number";
  if (typeof r.time !== "string" || Number.isNaN(Date.parse(r.time))) return "time is not an ISO 8601 time";
  if (!r.target || typeof r.target !== "object") return "record has no target";
  if (!r.links || typeof r.links !== "object") return "record has no links";
  return undefined;
}

/**
 * Why the entry cannot count whatever its place in the chain: its shape, its fields, its
 * signature, the key's principal at the claimed time, the identity it claims, its repository.
 */
export function recordProblem(e: CommitEntry, ctx: ChainContext): string | undefined {
  if (e.shape.length) return e.shape[0];
  const r = e.record;
  if (!r || !e.hash) return "commit adds no readable record";
  const bad = fieldsProblem(r);
  if (bad) return bad;
  if (!e.signature) return "record has no signature";
  if (!e.signature.ok) return `signature does not verify: ${e.signature.reason}`;
  const time = Date.parse(r.time);
  if (!ctx.keys.principalsFor(e.signature.key, new Date(time)).includes(r.signer)) {
    return `signer ${JSON.stringify(r.signer)} with this key is not in allowed_signers at ${r.time}`;
  }
  // Identity comes from the signature, never from what the record says of itself.
  const claimed = personOf(ctx, r.actor.login);
  if (claimed !== r.signer) {
    return `record claims actor ${JSON.stringify(r.actor.login)} but is signed by ${JSON.stringify(r.signer)}`;
  }
  if (r.repo !== ctx.repo) return `record is for ${JSON.stringify(r.repo)}, not ${ctx.repo}`;
  if (Math.abs(idTime(r.id) - time) > clockToleranceMs) return "id and time disagree";
  return undefined;
}

/**
 * Why a record that could count does not take its place after `tail` (the last record that
 * counts): it must chain onto it, or onto a record that never counted after it, and claim no
 * earlier time. `before` is the record its `prev` names (undefined: none known).
 */
export function linkProblem(
  r: LedgerRecord,
  tail: ChainTail | undefined,
  before: { index: number; seq: number } | undefined,
  ids: ReadonlySet<string>,
): string | undefined {
  if (ids.has(r.id)) return `id ${r.id} is used by an earlier record`;
  if (r.prev === null) {
    if (tail) return "record starts a new chain; it must chain onto the last valid record";
    if (r.seq !== 1) return `seq is ${r.seq}, expected 1`;
  } else {
    if (!before) return "prev names no earlier record";
    // Chaining past junk is how writers recover from it; chaining past a valid record is not.
    if (tail && before.index < tail.index) {
      return `record chains past ${tail.id} (seq ${tail.seq}), the last valid record`;
    }
    if (r.seq !== before.seq + 1) return `seq is ${r.seq}, expected ${before.seq + 1}`;
  }
  if (tail && Date.parse(r.time) < tail.time - clockToleranceMs) {
    return `time ${r.time} is before ${new Date(tail.time).toISOString()}, the time of ${tail.id} it follows`;
  }
  return undefined;
}

/**
 * Why the entry does not count, or undefined when it does. `tail` is the last record that counts
 * before it; `known` maps the hash of every earlier record-bearing commit (valid or not) to its
 * position and seq; `ids` holds the ids of records that count.
 */
export function chainProblem(
  e: CommitEntry,
  tail: ChainTail | undefined,
  known: ReadonlyMap<string, { index: number; seq: number }>,
  ids: ReadonlySet<string>,
  ctx: ChainContext,
): string | undefined {
  const own = recordProblem(e, ctx);
  if (own) return own;
  const r = e.record!;
  return linkProblem(r, tail, typeof r.prev === "string" ? known.get(r.prev) : undefined, ids);
}
