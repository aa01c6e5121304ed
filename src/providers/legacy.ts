/**
 * Transitional adapters: the forge helpers still read an index-shaped state and an IndexEntry for
 * the override being ended. These build them from the evaluator's view, so the semantics (the
 * baseline is what ending restores) reach them unchanged: `before` here is the state to put back.
 */
import { recordPathOf } from "../core/chain.js";
import type { LedgerState, RestoreSpec, TargetView } from "../core/ports.js";
import type { IndexEntry, LedgerRecord } from "../core/record.js";
import { legacyState } from "../core/state.js";

export function stateOf(view: Pick<TargetView, "inForce">): LedgerState {
  return legacyState(view.inForce);
}

export function restoreArgs(spec: RestoreSpec): {
  entry: IndexEntry;
  original: LedgerRecord;
  state: LedgerState;
} {
  const entry: IndexEntry = {
    id: spec.overrideId,
    type: spec.original.type,
    op: spec.op,
    target: spec.target,
    mechanism: spec.mechanism,
    expiresAt: spec.original.expiresAt,
    record: recordPathOf(spec.overrideId),
    before: spec.restore,
    after: spec.current,
    actor: spec.original.actor.login,
    time: spec.original.time,
  };
  return {
    entry,
    original: { ...spec.original, before: spec.restore },
    state: legacyState(
      spec.inForce
        .filter((o) => o.id !== spec.overrideId)
        .concat(spec.inForce.filter((o) => o.id === spec.overrideId)),
    ),
  };
}
