/**
 * Reading the whole ledger for reviews and reports, and the review figures `status` and
 * `guard --strict` show. The active index does not track reviews, so these read the branch's
 * history (one `git log` and one `git cat-file`, as `optout log` does); `status` keeps a tally
 * so it reads only what is new.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { LedgerRecord } from "../../core/record.js";
import {
  advanceReviews,
  awaitingReview,
  emptyReviewTally,
  type OverdueReview,
  overdueReviews,
  type ReviewTally,
} from "../../core/review.js";
import type { Factory } from "../../factory.js";
import { isAncestor } from "../../git/repo.js";
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
  overdue: { id: string; appliedAt: string; dueAt: string }[];
}

/**
 * What `status` shows about reviews, at the tip it already fetched. The tally is kept in
 * `.git/optout/reviews.json` with the tip it was taken at, so the next `status` reads only the
 * records written since (the whole history again when that tip is no longer on the branch).
 */
export async function reviewStatus(f: Factory, tip: string | undefined): Promise<ReviewStatus> {
  const [policy, store] = await Promise.all([f.policy(), f.ledgerStore()]);
  const root = store.cfg.repo.root;
  const file = join(store.cfg.repo.commonDir, "optout", "reviews.json");
  let tally = emptyReviewTally();
  if (tip) {
    const cached = await readTally(file, policy.audit.branch);
    const from =
      cached && (cached.tip === tip || (await isAncestor(root, cached.tip, tip))) ? cached : undefined;
    if (from) tally = from.tally;
    if (from?.tip !== tip) {
      const range = from ? `${from.tip}..${tip}` : tip;
      const entries = await readHistory(root, range, undefined, { signatures: false });
      tally = advanceReviews(tally, parseEntries(entries));
      await writeTally(file, { v: 1, branch: policy.audit.branch, tip, tally });
    }
  }
  const now = f.now().getTime();
  const awaiting = awaitingReview(tally);
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

interface TallyFile {
  v: 1;
  branch: string;
  tip: string;
  tally: ReviewTally;
}

async function readTally(file: string, branch: string): Promise<TallyFile | undefined> {
  try {
    const t = JSON.parse(await readFile(file, "utf8")) as TallyFile;
    const ok =
      t.v === 1 &&
      t.branch === branch &&
      /^[0-9a-f]{40,64}$/.test(t.tip) &&
      t.tally?.v === 1 &&
      Array.isArray(t.tally.awaiting) &&
      Array.isArray(t.tally.intents) &&
      Array.isArray(t.tally.reviewed);
    return ok ? t : undefined;
  } catch {
    return undefined; // none yet, or unreadable: count from the whole history
  }
}

async function writeTally(file: string, t: TallyFile): Promise<void> {
  try {
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(t));
    await rename(tmp, file);
  } catch {
    // A cache: the next status counts from the whole history.
  }
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
