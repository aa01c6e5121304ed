/**
 * `optout log --verify`: the evaluator's verdict on every commit, as a report. A commit that does
 * not count (junk: bad or missing signature, a key allowed_signers does not list for the claimed
 * signer at the claimed time, an actor that is not the signer, a broken chain, a time before the
 * record it follows, extra files) is a problem; so is a record the policy in force gives no effect
 * while it would still be in force. The honest records after a problem are still checked.
 */
import type { Alert, LedgerEvaluator } from "../core/state.js";

export interface VerifyProblem {
  seq: number | null;
  id: string | null;
  commit: string;
  path: string | null;
  problem: string;
}

export interface VerifyReport {
  ok: boolean;
  /** Records that count. */
  records: number;
  /** Commits read. */
  commits: number;
  tip: string | undefined;
  problems: VerifyProblem[];
  /** Records that count but that the policy in force gives no effect, whose time has passed. */
  warnings: VerifyProblem[];
}

export interface Anchor {
  /** The tip this clone verified last. */
  commit: string;
  isAncestor: boolean;
}

function problemOf(a: Alert): VerifyProblem {
  return { seq: a.seq, id: a.id, commit: a.commit, path: a.path, problem: a.problem };
}

/** Whether an unauthorized record would still matter now: an override or request not yet expired. */
function stillMatters(a: Alert, now: number): boolean {
  if (a.wouldExpire === undefined) return false;
  return a.wouldExpire === null || Date.parse(a.wouldExpire) > now;
}

export function verifyReport(
  ev: LedgerEvaluator,
  tip: string | undefined,
  commits: number,
  now: Date,
  anchor?: Anchor,
): VerifyReport {
  const problems: VerifyProblem[] = [];
  const warnings: VerifyProblem[] = [];
  for (const a of ev.alerts) {
    if (a.kind === "junk" || stillMatters(a, now.getTime())) problems.push(problemOf(a));
    else warnings.push(problemOf(a));
  }
  // A record claiming a time after ours: not believed until then, and worth a look now.
  const last = ev.valid.at(-1);
  if (last && Date.parse(last.record.time) > now.getTime() + 5 * 60_000) {
    problems.push({
      seq: last.record.seq,
      id: last.record.id,
      commit: last.commit,
      path: last.path,
      problem: `record claims a time (${last.record.time}) ahead of this machine's clock; it is not believed before then`,
    });
  }
  if (anchor && !anchor.isAncestor) {
    problems.push({
      seq: null,
      id: null,
      commit: anchor.commit,
      path: null,
      problem: `history was rewritten: commit ${anchor.commit.slice(0, 12)}, the tip this clone saw last, is no longer on the branch (records were dropped or replaced)`,
    });
  }
  return { ok: problems.length === 0, records: ev.valid.length, commits, tip, problems, warnings };
}
