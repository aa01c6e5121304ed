/**
 * Overrides that are an Actions variable: a stage skip with mechanism `variable` (value "true";
 * workflows check `vars.OPTOUT_SKIP_LINT != 'true'`) and deploy flags (the variable is named after
 * the flag; a null value unsets it). before/after are `{ value: string | null }`.
 */
import type { LedgerState, OverrideSpec, Plan } from "../../core/ports.js";
import type { IndexEntry, LedgerRecord, Target } from "../../core/record.js";
import { UsageError } from "../../errors.js";
import { type GhContext, untilText } from "./context.js";
import {
  checkVariableName,
  describeChange,
  describeVariable,
  readVariable,
  type VariableScope,
  variableCalls,
  writeVariable,
} from "./variables.js";

interface VariableState {
  value: string | null;
}

/** What each plan read, so apply picks create or update without asking again. */
const readings = new WeakMap<Plan, string | null>();

/** The variable an override of `op` on `target` sets. */
export function variableScope(gh: GhContext, op: string, target: Target): VariableScope {
  const env = target.env ?? null;
  if (op === "flag") {
    const name = String(target.flag);
    checkVariableName(name, "flag");
    return { name, env };
  }
  const stage = String(target.stage);
  const name = gh.ctx.policy.stages[stage]?.variable;
  if (!name) {
    throw new UsageError(`stage ${stage} has mechanism "variable" but no "variable"`, {
      hint: `set stages.${stage}.variable (e.g. "OPTOUT_SKIP_${stage.toUpperCase().replace(/\W/g, "_")}") in ${gh.ctx.policy.file}`,
    });
  }
  checkVariableName(name, `stages.${stage}.variable`);
  return { name, env };
}

/**
 * Other active skips that hold the same variable. A variable is repo-wide, so skips of one stage
 * on two refs share it: the first one's `before` is the state to return to, and the variable
 * stays set until the last of them ends.
 */
function sharing(state: LedgerState, op: string, target: Target, exceptId?: string): IndexEntry[] {
  if (op !== "skip") return [];
  return state.index.active.filter(
    (e) =>
      e.id !== exceptId &&
      (e.op ?? e.type) === "skip" &&
      e.mechanism === "variable" &&
      e.target.stage === target.stage &&
      (e.target.env ?? null) === (target.env ?? null),
  );
}

export async function planVariable(gh: GhContext, spec: OverrideSpec, state: LedgerState): Promise<Plan> {
  const scope = variableScope(gh, spec.op, spec.target);
  const value = spec.op === "skip" ? "true" : (spec.params.value ?? null);
  const known = await readVariable(gh, scope);
  const holder = sharing(state, spec.op, spec.target)[0];
  const before: VariableState = (holder?.before as VariableState | undefined) ?? { value: known };
  const steps = [`${describeChange(scope, value, known)} ${untilText(gh, spec.expiresAt)}`];
  if (spec.op === "skip") {
    steps.push(
      `workflows checking vars.${scope.name} skip ${spec.target.stage}; a variable is repo-wide, so every ref's runs see it`,
    );
    if (holder) steps.push(`${scope.name} is already set by skip ${holder.id}; it stays set until both end`);
  }
  const plan: Plan = {
    steps,
    calls: variableCalls(gh, scope, value, known),
    before,
    after: { value },
    external: true,
  };
  readings.set(plan, known);
  return plan;
}

export async function setVariable(
  gh: GhContext,
  spec: OverrideSpec,
  plan: Plan,
): Promise<{ after: VariableState; detail: string }> {
  const scope = variableScope(gh, spec.op, spec.target);
  const value = (plan.after as VariableState).value;
  // Not plan.before: for a shared skip variable that is inherited from the first skip.
  const known = readings.has(plan) ? (readings.get(plan) ?? null) : await readVariable(gh, scope);
  await writeVariable(gh, scope, value, known);
  return {
    after: { value },
    detail:
      value === null
        ? `deleted ${describeVariable(scope)}`
        : `set ${describeVariable(scope)} to ${JSON.stringify(value)}`,
  };
}

export async function planVariableRestore(
  gh: GhContext,
  entry: IndexEntry,
  original: LedgerRecord,
  state: LedgerState,
): Promise<Plan> {
  const op = String(entry.op ?? original.op);
  const scope = variableScope(gh, op, entry.target);
  const others = sharing(state, op, entry.target, entry.id);
  if (others.length > 0) {
    return {
      steps: [`leaving ${describeVariable(scope)} set: skip ${others[0]!.id} still uses it`],
      calls: [],
      before: entry.after ?? null,
      after: entry.after ?? null,
      external: false,
    };
  }
  const previous = (original.before as VariableState | null)?.value ?? null;
  const set = ((entry.after ?? original.after) as VariableState | null)?.value ?? null;
  const current = await readVariable(gh, scope);
  const steps = [describeChange(scope, previous, current)];
  if (current !== set)
    steps.push(`note: it was changed to ${JSON.stringify(current)} after the override; restoring anyway`);
  return {
    steps,
    calls: variableCalls(gh, scope, previous, current),
    before: { value: current },
    after: { value: previous },
    external: true,
  };
}

export async function restoreVariable(
  gh: GhContext,
  entry: IndexEntry,
  original: LedgerRecord,
  plan: Plan,
): Promise<{ after: VariableState }> {
  const scope = variableScope(gh, String(entry.op ?? original.op), entry.target);
  const value = (plan.after as VariableState).value;
  await writeVariable(gh, scope, value, (plan.before as VariableState).value);
  return { after: { value } };
}
