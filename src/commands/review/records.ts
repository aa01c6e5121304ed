/**
 * Reading the whole ledger for reviews and reports: the records that count, from the evaluator
 * (every signature checked against today's allowed_signers, junk left out), and the review figures
 * `status` and `guard --strict` show.
 */
import type { LedgerRecord } from "../../core/record.js";
import {
  advanceReviews,
  awaitingReview,
  emptyReviewTally,
  type OverdueReview,
  overdueReviews,
} from "../../core/review.js";
import type { Alert } from "../../core/state.js";
import type { Factory } from "../../factory.js";

export interface LoadedRecords {
  tip: string | undefined;
  /** The records that count, oldest first. */
  records: LedgerRecord[];
  /** Commits and records that do not count, or that the policy in force gives no effect. */
  alerts: Alert[];
}

/** The ledger's records that count, oldest first (fetched once per command; see Factory.evaluation). */
export async function loadRecords(f: Factory): Promise<LoadedRecords> {
  const { tip, ev } = await f.evaluation();
  return { tip, records: ev.valid.map((v) => v.record), alerts: ev.alerts };
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

/** What `status` shows about reviews. */
export async function reviewStatus(f: Factory): Promise<ReviewStatus> {
  const [policy, { records }] = await Promise.all([f.policy(), loadRecords(f)]);
  const awaiting = awaitingReview(advanceReviews(emptyReviewTally(), records));
  const now = f.now().getTime();
  return {
    awaiting: awaiting.length,
    required: policy.review.required,
    withinMs: policy.review.withinMs,
    overdue: awaiting.flatMap((o) => {
      const due = Date.parse(o.appliedAt) + policy.review.withinMs;
      return due <= now ? [{ ...o, dueAt: new Date(due).toISOString() }] : [];
    }),
  };
}

/** "3 overrides await review (2 overdue)"; undefined when nothing awaits. */
export function reviewLine(s: ReviewStatus): string | undefined {
  if (s.awaiting === 0) return undefined;
  const n = s.awaiting === 1 ? "1 override awaits review" : `${s.awaiting} overrides await review`;
  const overdue = s.required && s.overdue.length ? `, ${s.overdue.length} overdue` : "";
  return `${n}${overdue}: optout log --unreviewed`;
}

/** `guard --strict`: the skip overrides of this stage whose review is overdue (only valid reviews clear one). */
export async function overdueForStage(f: Factory, stage: string): Promise<OverdueReview[]> {
  const policy = await f.policy();
  if (!policy.review.required) return [];
  const { records } = await loadRecords(f);
  return overdueReviews(records, f.now(), policy.review.withinMs).filter(
    (o) => o.record.type === "skip" && o.record.target.stage === stage,
  );
}
