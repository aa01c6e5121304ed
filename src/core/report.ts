/**
 * `optout report`: how often, how long and by whom overrides were used, as pure arithmetic over
 * ledger records so every figure can be checked by hand (test/report) without git.
 *
 * Definitions (also spelled out in the JSON field names and `definitions`):
 * - An override counts in the window when it was *applied* within [since, until]: applied = the
 *   override record's time when the record is the override (outcome `applied`), else the time of
 *   the `result` record that reported it applied. Failed or unfinished intents do not count.
 * - Active time, "applied to end": from applied to the earliest of (a) the record that took it
 *   out of force (revert, expire, a newer override of the same scope, a flag unset), (b) its
 *   `expiresAt`, (c) `now` — so one still active counts to now, and one left past its TTL counts to
 *   `expiresAt` (guard stops honouring it then, whatever the ledger says later). A flag unset is
 *   never in force, so it has no active time and no ending; it counts everywhere else.
 * - Ending: `revertedEarly` = taken out by a revert before `expiresAt` (any revert when there is
 *   no TTL); `expired` = by an expire record, or its `expiresAt` came first; `superseded` = replaced
 *   by a newer override of the same scope before `expiresAt`; `stillActive` = none of these by now.
 *   Shares are of the ended ones (revertedEarly + expired + superseded).
 * - Reviews: reviewed = has a review record by `now`; verdict counts use each override's latest review.
 * - Actor = who asked for it (`requester` when a second person approved and applied it).
 */

import {
  type ActiveIndex,
  applyToIndex,
  emptyIndex,
  type LedgerRecord,
  type ReportDimension,
  reportDimensions,
} from "./record.js";
import { isOverrideRecord, latestVerdict, reviewsByOverride, type Verdict, verdicts } from "./review.js";
import type { LedgerEvaluator } from "./state.js";

export { type ReportDimension, reportDimensions };

export interface ReportOptions {
  since: Date;
  until: Date;
  /** The state (active, ended, reviewed) is taken as of `now`; later records are ignored. */
  now: Date;
  by: ReportDimension;
  /**
   * When each override entered and left force, as the evaluator decided (every reader's rules:
   * `spansOf`). Without it, replayed from the records alone.
   */
  spans?: Map<string, Span>;
}

export type Ending = "revertedEarly" | "expired" | "superseded" | "stillActive";

/** One applied override with what the report says about it. */
export interface OverrideFacts {
  id: string;
  type: string;
  stage: string | null;
  env: string | null;
  actor: string;
  reason: string;
  appliedAt: string;
  /** Applied to end (see the module comment); null when it was never in force (a flag unset). */
  activeMsAppliedToEnd: number | null;
  ending: Ending | null;
  verdict: Verdict | null;
}

export interface Figures {
  overrides: number;
  activeTime: {
    /** Overrides with an active time (in force at some point). */
    measured: number;
    medianMsAppliedToEnd: number | null;
    longestMsAppliedToEnd: number | null;
    longestId: string | null;
  };
  endings: {
    revertedEarly: number;
    expired: number;
    superseded: number;
    stillActive: number;
    ended: number;
    /** revertedEarly / ended; null when none ended. */
    revertedEarlyShareOfEnded: number | null;
    /** expired / ended; null when none ended. */
    expiredShareOfEnded: number | null;
  };
  reviews: {
    reviewed: number;
    /** reviewed / overrides; null when there are none. */
    reviewedShare: number | null;
    /** Each reviewed override counted once, under its latest verdict. */
    latestVerdicts: Record<Verdict, number>;
  };
}

export interface Report {
  window: { since: string; until: string; now: string };
  by: ReportDimension;
  definitions: Record<string, string>;
  total: Figures;
  /** One row per value of `by` ("-" when the override has none), most overrides first. */
  groups: (Figures & { key: string })[];
  /** Normalised reasons (trimmed, lowercase, inner whitespace collapsed), top 5. */
  topReasons: { reason: string; overrides: number }[];
  /** Stages waived by `skip` most often, top 5: the flaky-stage list. */
  mostWaivedStages: { stage: string; skips: number }[];
}

export const definitions: Record<string, string> = {
  applied: "the override record's time, or its applied result's time when the change was made on a forge",
  window: "overrides applied within [since, until]",
  activeMsAppliedToEnd:
    "applied → earliest of: the record that took it out of force, its expiresAt, now; flag unsets have none",
  revertedEarly: "taken out by a revert before expiresAt (any revert without a TTL)",
  expired: "taken out by an expire record, or expiresAt came first",
  superseded: "replaced by a newer override of the same scope before expiresAt",
  shares: "revertedEarly and expired shares are of ended = revertedEarly + expired + superseded",
  reviews: "reviewed by now; verdicts count each override's latest review",
  actor: "who asked for it (the requester when a second person approved it)",
  topReasons: "reason trimmed, lowercased, inner whitespace collapsed; top 5",
  mostWaivedStages: "skip overrides per stage; top 5",
};

export interface Span {
  from: string;
  end?: { at: string; by: LedgerRecord };
}

/**
 * Spans from the evaluator: an override ended by a record ends there; one below the top of a
 * rollout or failover stack was superseded by the one above it, and is in force again (no end)
 * once that one is reverted. What happened after `now` is not known yet.
 */
export function spansOf(ev: LedgerEvaluator, now: Date): Map<string, Span> {
  const t = now.getTime();
  const byId = new Map(ev.valid.map((v) => [v.record.id, v.record]));
  const out = new Map<string, Span>();
  const span = (from: string, at: string | undefined, by: LedgerRecord | undefined): Span =>
    at && by && Date.parse(at) <= t ? { from, end: { at, by } } : { from };
  for (const s of ev.targets.values()) {
    for (const e of s.ended) {
      if (e.how === "failed") continue; // never in force
      out.set(e.override.id, span(e.override.since, e.at, e.by ? byId.get(e.by) : undefined));
    }
    const stack = [...s.stack, ...(s.active ? [s.active] : [])];
    stack.forEach((o, i) => {
      const above = stack[i + 1];
      out.set(o.id, span(o.since, above?.since, above?.record));
    });
  }
  return out;
}

/**
 * When each override entered and left force, by replaying the records through the same index
 * function the ledger uses, so the report agrees with what guard and status saw.
 */
function spans(records: readonly LedgerRecord[]): Map<string, Span> {
  const byId = new Map(records.map((r) => [r.id, r]));
  const out = new Map<string, Span>();
  let index: ActiveIndex = emptyIndex();
  for (const r of records) {
    const before = new Set(index.active.map((e) => e.id));
    index = applyToIndex(index, r, r.id);
    const after = new Set(index.active.map((e) => e.id));
    for (const id of after) {
      const o = byId.get(id);
      if (!before.has(id) && !out.has(id) && o && isOverrideRecord(o)) out.set(id, { from: r.time });
    }
    for (const id of before) {
      const span = out.get(id);
      if (!after.has(id) && span && !span.end) span.end = { at: r.time, by: r };
    }
  }
  return out;
}

function endKind(by: LedgerRecord, byId: Map<string, LedgerRecord>): "revert" | "expire" | "other" {
  const type = by.type === "result" ? byId.get(by.links.intent ?? "")?.type : by.type;
  return type === "revert" || type === "expire" ? type : "other";
}

function ending(span: Span, expiresAt: string | null, now: number, byId: Map<string, LedgerRecord>) {
  const exp = expiresAt ? Date.parse(expiresAt) : Number.POSITIVE_INFINITY;
  const from = Date.parse(span.from);
  if (!span.end) {
    const lapsed = exp <= now;
    return { kind: (lapsed ? "expired" : "stillActive") as Ending, ms: Math.min(exp, now) - from };
  }
  const at = Date.parse(span.end.at);
  const kind = endKind(span.end.by, byId);
  const early = at < exp;
  const k: Ending =
    kind === "expire" || !early ? "expired" : kind === "revert" ? "revertedEarly" : "superseded";
  return { kind: k, ms: Math.max(0, Math.min(at, exp) - from) };
}

export function normaliseReason(reason: string | null): string {
  return (reason ?? "").trim().toLowerCase().replace(/\s+/g, " ");
}

/** Per-override facts for every override applied in the window, oldest first. */
export function overrideFacts(records: readonly LedgerRecord[], o: ReportOptions): OverrideFacts[] {
  const now = o.now.getTime();
  const known = [...records].filter((r) => Date.parse(r.time) <= now).sort((a, b) => a.seq - b.seq);
  const byId = new Map(known.map((r) => [r.id, r]));
  const applied = new Map<string, string>();
  for (const r of known) {
    if (isOverrideRecord(r) && r.outcome === "applied") applied.set(r.id, r.time);
    if (r.type === "result" && r.outcome === "applied" && r.links.intent) {
      const intent = byId.get(r.links.intent);
      if (intent && isOverrideRecord(intent)) applied.set(intent.id, r.time);
    }
  }
  const inForce = o.spans ?? spans(known);
  const reviews = reviewsByOverride(known);
  const out: OverrideFacts[] = [];
  for (const [id, appliedAt] of applied) {
    const t = Date.parse(appliedAt);
    if (t < o.since.getTime() || t > o.until.getTime()) continue;
    const r = byId.get(id)!;
    const span = inForce.get(id);
    const end = span ? ending(span, r.expiresAt, now, byId) : undefined;
    out.push({
      id,
      type: r.type,
      stage: r.target.stage ?? null,
      env: r.target.env ?? null,
      actor: r.requester ?? r.actor.login,
      reason: normaliseReason(r.reason),
      appliedAt,
      activeMsAppliedToEnd: end ? end.ms : null,
      ending: end ? end.kind : null,
      verdict: latestVerdict(reviews.get(id)),
    });
  }
  return out.sort((a, b) => Date.parse(a.appliedAt) - Date.parse(b.appliedAt));
}

/** The middle value; for an even count, the mean of the two middle values. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const share = (n: number, of: number) => (of === 0 ? null : n / of);

export function figures(facts: readonly OverrideFacts[]): Figures {
  const timed = facts.filter((f) => f.activeMsAppliedToEnd !== null);
  const ms = timed.map((f) => f.activeMsAppliedToEnd!);
  let longest: OverrideFacts | undefined;
  for (const f of timed) if (!longest || f.activeMsAppliedToEnd! > longest.activeMsAppliedToEnd!) longest = f;
  const count = (e: Ending) => facts.filter((f) => f.ending === e).length;
  const endings = {
    revertedEarly: count("revertedEarly"),
    expired: count("expired"),
    superseded: count("superseded"),
    stillActive: count("stillActive"),
  };
  const ended = endings.revertedEarly + endings.expired + endings.superseded;
  const reviewed = facts.filter((f) => f.verdict !== null);
  const latestVerdicts = Object.fromEntries(
    verdicts.map((v) => [v, reviewed.filter((f) => f.verdict === v).length]),
  ) as Record<Verdict, number>;
  return {
    overrides: facts.length,
    activeTime: {
      measured: timed.length,
      medianMsAppliedToEnd: median(ms),
      longestMsAppliedToEnd: longest?.activeMsAppliedToEnd ?? null,
      longestId: longest?.id ?? null,
    },
    endings: {
      ...endings,
      ended,
      revertedEarlyShareOfEnded: share(endings.revertedEarly, ended),
      expiredShareOfEnded: share(endings.expired, ended),
    },
    reviews: {
      reviewed: reviewed.length,
      reviewedShare: share(reviewed.length, facts.length),
      latestVerdicts,
    },
  };
}

function keyOf(f: OverrideFacts, by: ReportDimension): string {
  switch (by) {
    case "stage":
      return f.stage ?? "-";
    case "actor":
      return f.actor;
    case "type":
      return f.type;
    case "env":
      return f.env ?? "-";
  }
}

/** Counts per key, most first, ties by key; at most `limit`. */
function top<T>(items: readonly T[], key: (t: T) => string, limit: number): [string, number][] {
  const counts = new Map<string, number>();
  for (const i of items) counts.set(key(i), (counts.get(key(i)) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, limit);
}

export function computeReport(records: readonly LedgerRecord[], o: ReportOptions): Report {
  const facts = overrideFacts(records, o);
  const groups = top(facts, (f) => keyOf(f, o.by), Number.POSITIVE_INFINITY).map(([key]) => ({
    key,
    ...figures(facts.filter((f) => keyOf(f, o.by) === key)),
  }));
  return {
    window: { since: o.since.toISOString(), until: o.until.toISOString(), now: o.now.toISOString() },
    by: o.by,
    definitions,
    total: figures(facts),
    groups,
    topReasons: top(
      facts.filter((f) => f.reason !== ""),
      (f) => f.reason,
      5,
    ).map(([reason, overrides]) => ({ reason, overrides })),
    mostWaivedStages: top(
      facts.filter((f) => f.type === "skip" && f.stage),
      (f) => f.stage!,
      5,
    ).map(([stage, skips]) => ({ stage, skips })),
  };
}
