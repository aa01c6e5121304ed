/**
 * Reading the whole ledger for reviews and reports, and the review figures `status` and
 * `guard --strict` show. The active index does not track reviews, so these read the branch's
 * history (one `git log` and one `git cat-file`, as `optout log` does).
 */
import type { LedgerRecord } from "../../core/record.js";
import { type OverdueReview, overdueReviews, unreviewed } from "../../core/review.js";
import type { Factory } from "../../factory.js";
import { type HistoryEntry, readHistory } from "../../ledger/history.js";
import { checkRecord } from "../../ledger/reader.js";

/** Records parsed from history entries, oldest first; entries without a parsable record are skipped. */
export function parseEntries(entries: readonly HistoryEntry[]): LedgerRecord[] {
  const out: LedgerRecord[] = [];
  for (const e of entries) {
    if (!e.recordBytes) continue;
    try {
      out.push(JSON.parse(e.recordBytes.toString("utf8")) as LedgerRecord);
    } catch {
      // `optout log --verify` names it; a report or count goes on without it.
    }
  }
  return out;
}

export interface LoadedRecords {
  tip: string | undefined;
  records: LedgerRecord[];
  /** Records that `verify` selected and whose signature did not hold (left out of `records`). */
  untrusted: { id: string; reason: string }[];
}

/**
 * The ledger's records, oldest first. `verify` picks records whose signature must hold before
 * they count (e.g. reviews that let guard answer skip); the others are read as `log` reads them.
 * `tip` skips the fetch when the caller already fetched.
 */
export async function loadRecords(
  f: Factory,
  o: { tip?: string | undefined; verify?: (r: LedgerRecord) => boolean } = {},
): Promise<LoadedRecords> {
  const store = await f.ledgerStore();
  let tip = o.tip;
  if (!("tip" in o)) {
    const fetched = await store.fetch({ history: true });
    if (!fetched.reachable)
      f.io.err(`optout: warning: cannot reach the remote (${fetched.error}); reading the local copy`);
    tip = fetched.exists || !fetched.reachable ? await store.localTip() : undefined;
  }
  if (!tip) return { tip, records: [], untrusted: [] };
  const entries = await readHistory(store.cfg.repo.root, tip, undefined, { signatures: !!o.verify });
  if (!o.verify) return { tip, records: parseEntries(entries), untrusted: [] };
  const [trust, policy] = await Promise.all([f.trust(), f.policy()]);
  const records: LedgerRecord[] = [];
  const untrusted: LoadedRecords["untrusted"] = [];
  for (const e of entries) {
    const [r] = parseEntries([e]);
    if (!r) continue;
    if (o.verify(r)) {
      const sig = e.sigText === undefined ? undefined : Buffer.from(e.sigText, "utf8");
      const check = checkRecord(e.recordBytes, sig, trust, policy.audit.namespace);
      if (!check.ok) {
        untrusted.push({ id: r.id, reason: check.reason });
        f.io.debug(`ignored ${r.type} ${r.id}: ${check.reason}`);
        continue;
      }
    }
    records.push(r);
  }
  return { tip, records, untrusted };
}

export interface ReviewStatus {
  /** Applied overrides without a review. */
  awaiting: number;
  /** Policy `review.required`: whether overdue reviews matter. */
  required: boolean;
  withinMs: number;
  /** Unreviewed past `review.within` (always computed; it only matters when required). */
  overdue: OverdueReview[];
}

/** What `status` shows about reviews, at the tip it already fetched. */
export async function reviewStatus(f: Factory, tip: string | undefined): Promise<ReviewStatus> {
  const [policy, { records }] = await Promise.all([f.policy(), loadRecords(f, { tip })]);
  return {
    awaiting: unreviewed(records).length,
    required: policy.review.required,
    withinMs: policy.review.withinMs,
    overdue: overdueReviews(records, f.now(), policy.review.withinMs),
  };
}

/** "3 overrides await review (2 overdue)"; undefined when nothing awaits. */
export function reviewLine(s: ReviewStatus): string | undefined {
  if (s.awaiting === 0) return undefined;
  const n = s.awaiting === 1 ? "1 override awaits review" : `${s.awaiting} overrides await review`;
  const overdue = s.required && s.overdue.length ? `, ${s.overdue.length} overdue` : "";
  return `${n}${overdue}: optout log --unreviewed`;
}

/**
 * `guard --strict`: the skip overrides of this stage whose review is overdue. Only verified
 * reviews clear one, so a review pushed by a key outside allowed_signers cannot make guard skip.
 */
export async function overdueForStage(f: Factory, tip: string, stage: string): Promise<OverdueReview[]> {
  const policy = await f.policy();
  if (!policy.review.required) return [];
  const { records } = await loadRecords(f, { tip, verify: (r) => r.type === "review" });
  return overdueReviews(records, f.now(), policy.review.withinMs).filter(
    (o) => o.record.type === "skip" && o.record.target.stage === stage,
  );
}
