/**
 * Overrides that are a project CI/CD variable: a stage skip with mechanism `variable`
 * (pipelines use `rules: - if: $OPTOUT_SKIP_LINT == "true"` → `when: never`) and deploy flags
 * (scope = --env, or `*`). `before` and `after` are VariableStates; a revert restores `before`.
 */
import type { FlagPolicy, StagePolicy } from "../../core/policy.js";
import type { OverrideSpec, Plan } from "../../core/ports.js";
import type { LedgerRecord } from "../../core/record.js";
import { UsageError } from "../../errors.js";
import { type GitLabDeps, until } from "./context.js";
import {
  asVariableState,
  describeVariable,
  foreignNote,
  readVariable,
  removeVariable,
  restoreVariable,
  setVariable,
  type VariableState,
  variableCalls,
} from "./variables.js";

async function planSet(
  deps: GitLabDeps,
  key: string,
  scope: string,
  value: string | null,
  what: string,
  note?: string,
): Promise<Plan> {
  const current = await readVariable(deps.api, key, scope);
  const want: VariableState = value === null ? { key, scope, value: null } : { ...current, value };
  const unchanged = current.value === value;
  const foreign = unchanged ? undefined : foreignNote(current);
  return {
    steps: [
      `${what}: ${unchanged ? "already" : "will make"} ${describeVariable(want)}`,
      `now: ${describeVariable(current)}`,
      ...(foreign ? [foreign] : []),
      ...(note ? [note] : []),
    ],
    calls: unchanged && value === null ? [] : variableCalls(deps.api, current, want, false),
    before: current,
    after: want,
    external: true,
  };
}

export function planVariableSkip(deps: GitLabDeps, stage: StagePolicy, spec: OverrideSpec): Promise<Plan> {
  if (!stage.variable) {
    throw new UsageError(`stage ${stage.name} uses mechanism "variable" but has no "variable"`, {
      hint: `set stages.${stage.name}.variable, e.g. "OPTOUT_SKIP_${stage.name.toUpperCase().replace(/\W/g, "_")}"`,
    });
  }
  return planSet(
    deps,
    stage.variable,
    "*",
    "true",
    `skip ${stage.name} ${until(spec.expiresAt)}`,
    // A project variable reaches every pipeline: it cannot be limited to one ref or commit.
    `pipelines of every ref see it, not only ${spec.target.sha?.slice(0, 12) ?? spec.target.ref}`,
  );
}

export function planFlag(deps: GitLabDeps, flag: FlagPolicy, spec: OverrideSpec): Promise<Plan> {
  const value = spec.params.value ?? null;
  const env = spec.target.env ?? null;
  const what = value === null ? `unset flag ${flag.name}` : `set flag ${flag.name} ${until(spec.expiresAt)}`;
  return planSet(deps, flag.name, env ?? "*", value, env ? `${what} in ${env}` : what);
}

/** Applies a planned set or unset (plan.before → plan.after); `recordId` names a new variable's owner. */
export async function applyVariable(deps: GitLabDeps, plan: Plan, recordId: string): Promise<VariableState> {
  const current = asVariableState(plan.before, "before");
  const want = asVariableState(plan.after, "after");
  return want.value === null
    ? removeVariable(deps.api, current)
    : setVariable(deps.api, current, want.value, recordId);
}

export async function planVariableRestore(deps: GitLabDeps, original: LedgerRecord): Promise<Plan> {
  const want = asVariableState(original.before, "before");
  const current = await readVariable(deps.api, want.key, want.scope);
  return {
    steps: [`will put back ${describeVariable(want)}`, `now: ${describeVariable(current)}`],
    calls: variableCalls(deps.api, current, want, true),
    before: current,
    after: want,
    external: true,
  };
}

export async function restoreVariableOverride(deps: GitLabDeps, plan: Plan): Promise<VariableState> {
  return restoreVariable(
    deps.api,
    asVariableState(plan.before, "before"),
    asVariableState(plan.after, "after"),
  );
}
