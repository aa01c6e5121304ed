/**
 * The ledger record (docs/auditing.md shows one) and the active index, as domain types. A record is what a
 * signer vouches for; the index (`state/active.json`) is a cache derived from records.
 */
export const recordTypes = [
  "skip",
  "flag",
  "rollout",
  "failover",
  "revert",
  "expire",
  "request",
  "approve",
  "reject",
  "deny",
  "result",
  "review",
] as const;
export type RecordType = (typeof recordTypes)[number];

/** The four kinds of override. */
export const overrideTypes = ["skip", "flag", "rollout", "failover"] as const;
export type OverrideType = (typeof overrideTypes)[number];

/**
 * intent: about to act on a forge or run a command; applied / failed: what happened; unknown: the
 * forge did not say (a 5xx or a timeout after the request was sent), for `optout sync` to settle;
 * pending: a request awaiting approval; denied: a refusal.
 */
export type Outcome = "intent" | "applied" | "failed" | "unknown" | "pending" | "denied";

export interface Actor {
  provider: string;
  login: string;
  id: string;
}

/** What an override acts on; keys per type: stage/ref/sha, flag/env, env/artifact, target/env. */
export type Target = Record<string, string | null>;

export interface Links {
  request?: string | null;
  reverts?: string | null;
  intent?: string | null;
  /** The override (skip, flag) this one replaced, or (rollout, failover) superseded. */
  replaces?: string | null;
}

export interface LedgerRecord {
  v: 1;
  id: string;
  seq: number;
  prev: string | null;
  time: string;
  type: RecordType;
  /** For request/deny/result/revert/expire: the override type concerned. */
  op: OverrideType | null;
  actor: Actor;
  signer: string;
  repo: string;
  target: Target;
  reason: string | null;
  ticket: string | null;
  mechanism: string | null;
  before: unknown;
  after: unknown;
  expiresAt: string | null;
  links: Links;
  outcome: Outcome;
  tool: string;
  /** Type-specific inputs: flag value, artifact, skip list, failover target. */
  params?: Record<string, string | null>;
  /** Why an operation failed or was denied. */
  error?: string;
  /** Who approved a request (the override it applied). */
  approvers?: string[];
  /** Who asked for an override that a second person approved. */
  requester?: string;
  /** A request: the TTL the override gets once approved (ms; null = none). */
  ttlMs?: number | null;
  /** Per-channel delivery of the announcement (result records). */
  notifications?: unknown[];
  /** A review's verdict on the override it names (`target.override`). */
  verdict?: Verdict;
  /** A result written by `optout sync` for an operation left half-done. */
  settledBy?: "sync";
}

/** A record before the ledger gives it its place in the chain. */
export type RecordDraft = Omit<LedgerRecord, "v" | "seq" | "prev" | "time" | "tool" | "signer"> & {
  time?: string;
};

/** An entry of `state/active.json`: an override in force, or a request awaiting approval. */
export interface IndexEntry {
  id: string;
  type: RecordType;
  op: OverrideType | null;
  target: Target;
  mechanism: string | null;
  expiresAt: string | null;
  /** Path of the record that establishes it (the override record, or the result that applied it). */
  record: string;
  /** Path of the override (intent) record when `record` is a result. */
  intent?: string;
  before?: unknown;
  after?: unknown;
  actor: string;
  time: string;
  /** Pending requests: who approved so far, and the paths of their approve records. */
  approvals?: { login: string; record: string }[];
}

export interface ActiveIndex {
  v: 1;
  seq: number;
  /** Overrides in force (until they expire or are reverted). */
  active: IndexEntry[];
  /** Requests awaiting approval. */
  pending: IndexEntry[];
  /** Intents whose result is not recorded yet (a crash, or still running). */
  inflight: IndexEntry[];
}

export function emptyIndex(): ActiveIndex {
  return { v: 1, seq: 0, active: [], pending: [], inflight: [] };
}

/** The key under which two overrides of one type compete: a newer one supersedes the older. */
export function scopeKey(type: string | null, target: Target): string {
  switch (type) {
    case "skip":
      return `skip:${target.stage}@${target.ref ?? ""}#${target.sha ?? ""}`;
    case "flag":
      return `flag:${target.flag}@${target.env ?? ""}`;
    case "rollout":
      return `rollout:${target.env ?? ""}`;
    case "failover":
      return `failover:${target.env ?? ""}`;
    default:
      return `${type}:${JSON.stringify(target)}`;
  }
}

function entryOf(r: LedgerRecord, path: string, extra: Partial<IndexEntry> = {}): IndexEntry {
  return {
    id: r.id,
    type: r.type,
    op: r.op,
    target: r.target,
    mechanism: r.mechanism,
    expiresAt: r.expiresAt,
    record: path,
    ...(r.before !== undefined ? { before: r.before } : {}),
    ...(r.after !== undefined ? { after: r.after } : {}),
    actor: r.actor.login,
    time: r.time,
    ...extra,
  };
}

/** The override a record establishes: its own type, or for a result the type of its intent. */
export function overrideOf(r: Pick<LedgerRecord, "type" | "op">): string {
  return r.type === "result" ? (r.op ?? "result") : r.type;
}

/** `{ value }` of a flag's before/after; null when absent. */
export function flagValue(state: unknown): string | null {
  if (state && typeof state === "object" && "value" in state) {
    const v = (state as { value: unknown }).value;
    return typeof v === "string" ? v : null;
  }
  return null;
}

function isOverride(t: string): t is OverrideType {
  return (overrideTypes as readonly string[]).includes(t);
}

/**
 * The index after `record` (stored at `path`) is appended. Pure: the same records always give the
 * same index, so anyone can rebuild it from the branch.
 */
export function applyToIndex(prev: ActiveIndex, record: LedgerRecord, path: string): ActiveIndex {
  const next: ActiveIndex = {
    v: 1,
    seq: record.seq,
    active: [...prev.active],
    pending: [...prev.pending],
    inflight: [...prev.inflight],
  };
  const drop = (list: IndexEntry[], id: string | null | undefined) => list.filter((e) => e.id !== id);
  const activate = (entry: IndexEntry) => {
    const key = scopeKey(entry.op ?? entry.type, entry.target);
    next.active = next.active.filter((e) => scopeKey(e.op ?? e.type, e.target) !== key);
    next.active.push(entry);
  };

  if (isOverride(record.type)) {
    if (record.outcome === "applied") {
      // A flag override whose value is null (unset) removes the entry it undoes.
      if (record.type === "flag" && flagValue(record.after) === null) {
        const key = scopeKey("flag", record.target);
        next.active = next.active.filter((e) => scopeKey(e.op ?? e.type, e.target) !== key);
      } else {
        activate(entryOf(record, path, { op: record.type }));
      }
    } else if (record.outcome === "intent") {
      next.inflight.push(entryOf(record, path, { op: record.type }));
    }
    if (record.links.request) next.pending = drop(next.pending, record.links.request);
    return next;
  }

  switch (record.type) {
    case "result": {
      const intentId = record.links.intent;
      const intent = next.inflight.find((e) => e.id === intentId);
      next.inflight = drop(next.inflight, intentId);
      if (record.outcome === "applied" && intent) {
        if (intent.type === "flag" && flagValue(record.after ?? intent.after) === null) {
          const key = scopeKey("flag", intent.target);
          next.active = next.active.filter((e) => scopeKey(e.op ?? e.type, e.target) !== key);
        } else if (intent.type === "revert" || intent.type === "expire") {
          const reverted = next.active.find((e) => e.id === record.links.reverts);
          next.active = drop(next.active, record.links.reverts);
          // Reverting a rollout or failover makes the state it restored current again.
          if (reverted && (reverted.op === "rollout" || reverted.op === "failover") && record.after) {
            activate({
              ...entryOf(record, path),
              id: intent.id,
              op: reverted.op,
              intent: intent.record,
              after: record.after,
            });
          }
        } else {
          activate({
            ...intent,
            record: path,
            intent: intent.record,
            after: record.after ?? intent.after,
          });
        }
      }
      break;
    }
    case "revert":
    case "expire":
      if (record.links.request) {
        // An expired request, not an override.
        next.pending = drop(next.pending, record.links.request);
      } else if (record.outcome === "applied") {
        next.active = drop(next.active, record.links.reverts);
      } else if (record.outcome === "intent") {
        next.inflight.push(entryOf(record, path));
      }
      break;
    case "request":
      if (record.outcome === "pending") next.pending.push(entryOf(record, path, { approvals: [] }));
      break;
    case "approve":
      next.pending = next.pending.map((e) =>
        e.id === record.links.request
          ? { ...e, approvals: [...(e.approvals ?? []), { login: record.actor.login, record: path }] }
          : e,
      );
      break;
    case "reject":
      next.pending = drop(next.pending, record.links.request);
      break;
    default:
      break;
  }
  return next;
}

/** `optout: <type> <subject> <ULID>`: the first line of the record's commit. */
export function recordSubject(r: Pick<LedgerRecord, "type" | "op" | "target" | "id" | "outcome">): string {
  const t = r.target;
  let what = "";
  if (t.stage) what = `${t.stage}@${t.sha ?? t.ref ?? ""}`;
  else if (t.flag) what = `${t.flag}${t.env ? `@${t.env}` : ""}`;
  else if (t.artifact) what = `${t.env}:${t.artifact}`;
  else if (t.target) what = `${t.target}${t.env ? `@${t.env}` : ""}`;
  else if (t.override) what = `${t.override}`;
  const type = r.op && r.type !== r.op ? `${r.type}(${r.op})` : r.type;
  return `optout: ${type} ${what || r.outcome} ${r.id}`.replace(/\s+/g, " ");
}

/** What a review may conclude about an override (`optout review --verdict`). */
export const verdicts = ["justified", "unjustified", "needs-follow-up"] as const;
export type Verdict = (typeof verdicts)[number];

/** The record fields `optout report --by` groups overrides by. */
export const reportDimensions = ["stage", "actor", "type", "env"] as const;
export type ReportDimension = (typeof reportDimensions)[number];
