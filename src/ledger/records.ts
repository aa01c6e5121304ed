/**
 * The ledger's records that count, for readers of the whole ledger (log, review, report,
 * status): the evaluator's verified records (every signature checked against today's
 * allowed_signers, junk left out) and its alerts about the rest.
 */
import type { LedgerRecord } from "../core/record.js";
import type { Alert, LedgerEvaluator } from "../core/state.js";

export interface CountingRecords {
  tip: string | undefined;
  /** The records that count, oldest first. */
  records: LedgerRecord[];
  /** Commits and records that do not count, or that the policy in force gives no effect. */
  alerts: Alert[];
}

export function countingRecords(tip: string | undefined, ev: LedgerEvaluator): CountingRecords {
  return { tip, records: ev.valid.map((v) => v.record), alerts: ev.alerts };
}
