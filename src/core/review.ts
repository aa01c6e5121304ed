/**
 * Post-incident review of overrides: a signed `review` record per reviewer and override, and the
 * questions asked of the history about it (which overrides await review, which are overdue).
 * Pure over a list of records, except `runReview`, which appends through the ledger port.
 */
import { NotAllowedError, PartialError, UsageError } from "../errors.js";
import { matchingPrincipal, sameActor } from "./authorize.js";
import { deny, type FlowDeps } from "./flow.js";
import { matchId } from "./ids.js";
import { requireRecordText, shown } from "./inputs.js";
import { principalToString, type ReviewSettings } from "./policy.js";
import {
  type Actor,
  type LedgerRecord,
  type OverrideType,
  overrideTypes,
  type RecordDraft,
  type Verdict,
  verdicts,
} from "./record.js";
import { visibleLength } from "./text.js";

export { type Verdict, verdicts };

export type OverrideRecord = LedgerRecord & { type: OverrideType };

/** A `review` record as written by `optout review`: the record fields plus its verdict. */
export type ReviewRecord = LedgerRecord & { verdict: Verdict };

export function isVerdict(v: unknown): v is Verdict {
  return typeof v === "string" && (verdicts as readonly string[]).includes(v);
}

export function isOverrideRecord(r: LedgerRecord): r is OverrideRecord {
  return (overrideTypes as readonly string[]).includes(r.type);
}

/** An override that took effect, and when. */
export interface AppliedOverride {
  record: LedgerRecord;
  /**
   * When it took effect: the override record's own time when the ledger record is the override
   * (outcome `applied`), else the time of the `result` record that reported it applied.
   */
  appliedAt: string;
}

function bySeq(records: readonly LedgerRecord[]): LedgerRecord[] {
  return [...records].sort((a, b) => a.seq - b.seq);
}

/**
 * Every override that took effect, in ledger order. Intents whose result failed or never came are
 * left out: nothing was overridden, so there is nothing to review.
 */
export function appliedOverrides(records: readonly LedgerRecord[]): AppliedOverride[] {
  const results = new Map<string, LedgerRecord>();
  for (const r of records) {
    if (r.type === "result" && r.outcome === "applied" && r.links.intent) results.set(r.links.intent, r);
  }
  const out: AppliedOverride[] = [];
  for (const r of bySeq(records)) {
    if (!isOverrideRecord(r)) continue;
    if (r.outcome === "applied") out.push({ record: r, appliedAt: r.time });
    else if (r.outcome === "intent") {
      const result = results.get(r.id);
      if (result) out.push({ record: r, appliedAt: result.time });
    }
  }
  return out;
}

/** Review records by the id of the override they review, each list in ledger order. */
export function reviewsByOverride(records: readonly LedgerRecord[]): Map<string, ReviewRecord[]> {
  const out = new Map<string, ReviewRecord[]>();
  for (const r of bySeq(records)) {
    const id = r.target.override;
    if (r.type !== "review" || r.outcome !== "applied" || !id) continue;
    if (!isVerdict((r as Partial<ReviewRecord>).verdict)) continue;
    out.set(id, [...(out.get(id) ?? []), r as ReviewRecord]);
  }
  return out;
}

/** Reviews accumulate; the latest one speaks for the override. */
export function latestVerdict(reviews: readonly ReviewRecord[] | undefined): Verdict | null {
  return reviews?.at(-1)?.verdict ?? null;
}

/** Applied overrides nobody has reviewed yet, oldest first (by when they took effect). */
export function unreviewed(records: readonly LedgerRecord[]): AppliedOverride[] {
  const byId = new Map(records.map((r) => [r.id, r]));
  return awaitingReview(advanceReviews(emptyReviewTally(), records)).map((a) => ({
    record: byId.get(a.id)!,
    appliedAt: a.appliedAt,
  }));
}

/**
 * What `status` needs to know about reviews, kept up to date record by record so a clone reads
 * only the records written since it last looked (`advanceReviews`), with the same answers as
 * `unreviewed` over the whole history.
 */
export interface ReviewTally {
  v: 1;
  /**
   * Applied overrides without a review yet. `viaResult`: it took effect when a `result` record
   * said so (an intent), so a later applied result moves `appliedAt`.
   */
  awaiting: { id: string; seq: number; appliedAt: string; viaResult?: true }[];
  /** Override intents whose result has not said applied (yet). */
  intents: { id: string; seq: number }[];
  /** Overrides that have a review. */
  reviewed: string[];
}

export function emptyReviewTally(): ReviewTally {
  return { v: 1, awaiting: [], intents: [], reviewed: [] };
}

/** The tally after `records` (the records following those it has seen, in ledger order). */
export function advanceReviews(tally: ReviewTally, records: readonly LedgerRecord[]): ReviewTally {
  const awaiting = tally.awaiting.map((a) => ({ ...a }));
  const intents = new Map(tally.intents.map((i) => [i.id, i]));
  const reviewed = new Set(tally.reviewed);
  for (const r of bySeq(records)) {
    if (isOverrideRecord(r)) {
      if (r.outcome === "applied" && !reviewed.has(r.id))
        awaiting.push({ id: r.id, seq: r.seq, appliedAt: r.time });
      else if (r.outcome === "intent") intents.set(r.id, { id: r.id, seq: r.seq });
    } else if (r.type === "result" && r.outcome === "applied" && r.links.intent) {
      const intent = intents.get(r.links.intent);
      const known = awaiting.find((a) => a.id === r.links.intent && a.viaResult);
      // The last applied result says when it took effect, as appliedOverrides reads it.
      if (known) known.appliedAt = r.time;
      else if (intent && !reviewed.has(intent.id)) {
        awaiting.push({ ...intent, appliedAt: r.time, viaResult: true });
      }
      intents.delete(r.links.intent);
    } else if (r.type === "review" && r.outcome === "applied" && r.target.override) {
      if (!isVerdict((r as Partial<ReviewRecord>).verdict)) continue;
      const id = r.target.override;
      reviewed.add(id);
      const at = awaiting.findIndex((a) => a.id === id);
      if (at >= 0) awaiting.splice(at, 1);
    }
  }
  return { v: 1, awaiting, intents: [...intents.values()], reviewed: [...reviewed] };
}

/** The tally's overrides awaiting review, oldest first, as `unreviewed` orders them. */
export function awaitingReview(tally: ReviewTally): { id: string; appliedAt: string }[] {
  return [...tally.awaiting]
    .sort((a, b) => Date.parse(a.appliedAt) - Date.parse(b.appliedAt) || a.seq - b.seq)
    .map(({ id, appliedAt }) => ({ id, appliedAt }));
}

export interface OverdueReview extends AppliedOverride {
  /** appliedAt + review.within: when the review was due. */
  dueAt: string;
}

/**
 * Unreviewed overrides whose review was due (`review.within` after they took effect) by `now`,
 * oldest first. Measured from taking effect, not from ending, so a long-lived override cannot
 * postpone its own review.
 */
export function overdueReviews(
  records: readonly LedgerRecord[],
  now: Date,
  withinMs: number,
): OverdueReview[] {
  const out: OverdueReview[] = [];
  for (const o of unreviewed(records)) {
    const due = Date.parse(o.appliedAt) + withinMs;
    if (due <= now.getTime()) out.push({ ...o, dueAt: new Date(due).toISOString() });
  }
  return out;
}

/** The override record with this id, or the only one whose id starts with it (≥ 6 characters). */
export function findOverride(records: readonly LedgerRecord[], id: string): OverrideRecord {
  const overrides = new Map(records.filter(isOverrideRecord).map((r) => [r.id, r]));
  const found = matchId(
    overrides.keys(),
    id,
    "override",
    "`optout log --unreviewed` lists overrides awaiting review; ids may be shortened to 6+ characters",
    (wanted) => {
      const other = records.find((r) => r.id === wanted);
      return other ? `${other.id} is a ${other.type} record, not an override` : undefined;
    },
  );
  return overrides.get(found)!;
}

/**
 * Whether the actor had a hand in the override: made it, asked for it, or approved it. None of
 * them is an independent reviewer.
 */
export function involvedIn(actor: Actor, override: LedgerRecord): boolean {
  const o = override.actor;
  if (sameActor(actor, o)) return true;
  const others = [override.requester, ...(override.approvers ?? [])].filter((x): x is string => !!x);
  return others.some((login) => sameActor(actor, login));
}

export interface ReviewInput {
  override: OverrideRecord;
  /** The ledger as read (any order): earlier reviews of the override are found here. */
  history: readonly LedgerRecord[];
  verdict: string | undefined;
  note: string | undefined;
  ticket: string | undefined;
  settings: ReviewSettings;
  /** The override's policy entry's ticket pattern, when it has one. */
  ticketPattern?: RegExp;
}

export interface ReviewResult {
  status: "applied" | "dry-run";
  record: LedgerRecord | RecordDraft;
  verdict: Verdict;
  /** Earlier reviews of the same override (by other people). */
  earlier: ReviewRecord[];
}

/**
 * Records a review. Usage errors first (nothing is recorded for a malformed command); then the
 * policy: `review.allow` and self-review are refusals recorded as `deny`, so attempts stay visible.
 */
export async function runReview(deps: FlowDeps, input: ReviewInput): Promise<ReviewResult> {
  const verdict = input.verdict?.trim();
  if (!isVerdict(verdict)) {
    throw new UsageError(verdict ? `--verdict "${verdict}" is not a verdict` : "--verdict is required", {
      hint: `one of: ${verdicts.join(", ")}`,
    });
  }
  const note = input.note?.trim() ?? "";
  if (visibleLength(note) === 0) {
    throw new UsageError("--note is required", { hint: "say what the review found and why" });
  }
  requireRecordText(note, "--note");
  const ticket = input.ticket?.trim() || null;
  if (ticket) requireRecordText(ticket, "--ticket");
  if (ticket && input.ticketPattern && !input.ticketPattern.test(ticket)) {
    throw new UsageError(`--ticket ${shown(ticket)} does not match ${input.ticketPattern.source}`);
  }
  const override = input.override;
  const actor = await deps.provider.identity();
  // A refused review is no refused override: op null, so it is not counted as a denied skip.
  const about = { op: null, target: { override: override.id }, reason: note, ticket };
  const allow = input.settings.allow;
  if (allow && !(await matchingPrincipal(deps.provider, actor, allow))) {
    await deny(
      deps,
      actor,
      about,
      new NotAllowedError(`${actor.login} may not review overrides`, {
        hint: `the policy's review.allow lists: ${allow.map(principalToString).join(", ")}`,
      }),
    );
  }
  if (!input.settings.allowSelf && involvedIn(actor, override)) {
    await deny(
      deps,
      actor,
      about,
      new NotAllowedError(
        `${actor.login} may not review ${override.id}: they made, asked for or approved it`,
        {
          hint: "someone else reviews it (the policy's review.allowSelf permits self-review)",
        },
      ),
    );
  }
  const earlier = reviewsByOverride(input.history).get(override.id) ?? [];
  const own = earlier.find((r) => sameActor(actor, r.actor));
  if (own) {
    throw new NotAllowedError(`${actor.login} already reviewed ${override.id} (${own.id}, ${own.verdict})`, {
      hint: "each person reviews an override once; another reviewer may add a review",
    });
  }
  // `verdict` is a field of review records only; the draft type does not know it.
  const draft: RecordDraft & { verdict: Verdict } = {
    id: deps.newId(),
    type: "review",
    op: override.type,
    actor,
    repo: deps.repo,
    target: { override: override.id },
    reason: note,
    ticket,
    mechanism: null,
    before: null,
    after: null,
    expiresAt: null,
    links: {},
    outcome: "applied",
    verdict,
  };
  if (deps.dryRun) return { status: "dry-run", record: draft, verdict, earlier };
  const landed = await deps.ledger.append(() => draft);
  if (landed.kind === "queued") {
    throw new PartialError(
      `the review of ${override.id} is recorded locally but not pushed yet (${landed.reason})`,
      {
        hint: "run `optout sync` when the remote is reachable",
      },
    );
  }
  deps.report.step(`recorded review ${landed.record.id} of ${override.id}: ${verdict}`);
  return { status: "applied", record: landed.record, verdict, earlier };
}

export interface ReviewStatus {
  /** Applied overrides without a review. */
  awaiting: number;
  /** Policy `review.required`: whether overdue reviews matter. */
  required: boolean;
  withinMs: number;
  /** Unreviewed past `review.within` (always computed; it only matters when required). */
  overdue: { id: string; appliedAt: string; dueAt: string }[];
}

/** Where reviews stand (what `status` shows), from the records that count. */
export function reviewStatus(
  records: readonly LedgerRecord[],
  settings: ReviewSettings,
  now: Date,
): ReviewStatus {
  const awaiting = awaitingReview(advanceReviews(emptyReviewTally(), records));
  return {
    awaiting: awaiting.length,
    required: settings.required,
    withinMs: settings.withinMs,
    overdue: awaiting.flatMap((o) => {
      const due = Date.parse(o.appliedAt) + settings.withinMs;
      return due <= now.getTime() ? [{ ...o, dueAt: new Date(due).toISOString() }] : [];
    }),
  };
}
