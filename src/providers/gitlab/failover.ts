/**
 * Failover: the policy's failover variable (scope = --env, or `*`) is switched to the target;
 * every later pipeline reads it. `before` keeps the variable's full state, so failing back puts
 * back exactly what was there (or removes the variable if there was none).
 *
 * A pipeline runs only when `failover.ref` is set. `failover.workflow` names a GitHub Actions file
 * and means nothing to GitLab; a mirrored policy that wants a GitLab failover pipeline says on
 * which ref it runs (its jobs select themselves with `rules: - if: $OPTOUT_FAILOVER_TARGET`).
 */
import type { OverrideSpec, Plan } from "../../core/ports.js";
import type { LedgerRecord } from "../../core/record.js";
import { UsageError } from "../../errors.js";
import type { GitLabDeps } from "./context.js";
import {
  createCall,
  parseTimeout,
  passingMode,
  pipelineArgs,
  type RunInfo,
  runPipeline,
} from "./pipelines.js";
import {
  asVariableState,
  describeVariable,
  foreignNote,
  readVariable,
  restoreVariable,
  setVariable,
  type VariableState,
  variableCalls,
} from "./variables.js";

export interface FailoverState {
  target: string | null;
  variable: VariableState;
  ref?: string | null;
  run?: RunInfo;
}

function failoverVariables(target: string, env: string | null, record: string) {
  return pipelineArgs({
    target: ["OPTOUT_FAILOVER_TARGET", target],
    environment: ["OPTOUT_ENVIRONMENT", env],
    optout_record: ["OPTOUT_RECORD", record],
  });
}

function asFailoverState(x: unknown, what: string): FailoverState {
  const s = (x ?? {}) as Partial<FailoverState>;
  return {
    target: typeof s.target === "string" ? s.target : null,
    variable: asVariableState(s.variable, `${what}.variable`),
    ref: typeof s.ref === "string" ? s.ref : null,
  };
}

export async function planFailover(deps: GitLabDeps, spec: OverrideSpec): Promise<Plan> {
  const policy = deps.ctx.policy.failover;
  if (!policy)
    throw new UsageError(`the policy has no "failover" section`, {
      hint: `add one to ${deps.ctx.policy.file}`,
    });
  if (!policy.variable) {
    throw new UsageError("failover on GitLab switches a CI/CD variable, and the policy names none", {
      hint: 'set failover.variable, e.g. "ACTIVE_REGION"',
    });
  }
  const target = spec.target.target;
  if (!target) throw new UsageError("failover needs --to <target>");
  const env = spec.target.env ?? null;
  const current = await readVariable(deps.api, policy.variable, env ?? "*");
  const want: VariableState = { ...current, value: target };
  const ref = policy.ref ?? null;
  const wait = spec.params.wait === "true" ? parseTimeout(spec.params.timeoutMs) : null;
  const pipeline = ref
    ? `then create a pipeline on ${ref} with OPTOUT_FAILOVER_TARGET=${target}${wait ? " and follow it" : ""}`
    : policy.workflow
      ? "failover.workflow is a GitHub workflow: no GitLab pipeline runs (set failover.ref for one)"
      : undefined;
  return {
    steps: [
      `will switch ${current.value === target ? "(already) " : ""}${describeVariable(want)}`,
      `now: ${describeVariable(current)}`,
      ...(current.value === target ? [] : [foreignNote(current)].filter((x): x is string => !!x)),
      ...(pipeline ? [pipeline] : []),
    ],
    calls: [
      ...variableCalls(deps.api, current, want, false),
      ...(ref
        ? [createCall(deps, ref, failoverVariables(target, env, "<record id>"), passingMode(deps))]
        : []),
    ],
    before: { target: current.value, variable: current } satisfies FailoverState,
    after: { target, variable: want, ref } satisfies FailoverState,
    external: true,
  };
}

export async function applyFailover(
  deps: GitLabDeps,
  spec: OverrideSpec,
  plan: Plan,
  record: LedgerRecord,
): Promise<FailoverState> {
  const before = asFailoverState(plan.before, "before");
  const { target, ref } = asFailoverState(plan.after, "after");
  const variable = await setVariable(deps.api, before.variable, target!, record.id);
  if (!ref) return { target, variable, ref: null };
  const wait = spec.params.wait === "true" ? parseTimeout(spec.params.timeoutMs) : null;
  const run = await runPipeline(
    deps,
    ref,
    failoverVariables(target!, spec.target.env ?? null, record.id),
    wait,
  );
  return { target, variable, ref, run };
}

export async function planFailoverRestore(deps: GitLabDeps, original: LedgerRecord): Promise<Plan> {
  const want = asFailoverState(original.before, "before").variable;
  const ref = asFailoverState(original.after, "after").ref ?? null;
  const current = await readVariable(deps.api, want.key, want.scope);
  const env = original.target.env ?? null;
  const runs = ref !== null && want.value !== null;
  return {
    steps: [
      `will fail back: ${describeVariable(want)}`,
      `now: ${describeVariable(current)}`,
      ...(runs ? [`then create a pipeline on ${ref} with OPTOUT_FAILOVER_TARGET=${want.value}`] : []),
    ],
    calls: [
      ...variableCalls(deps.api, current, want, true),
      ...(runs
        ? [createCall(deps, ref, failoverVariables(want.value!, env, "<record id>"), passingMode(deps))]
        : []),
    ],
    before: { target: current.value, variable: current } satisfies FailoverState,
    after: { target: want.value, variable: want, ref } satisfies FailoverState,
    external: true,
  };
}

export async function restoreFailover(
  deps: GitLabDeps,
  plan: Plan,
  original: LedgerRecord,
  record: LedgerRecord,
): Promise<FailoverState> {
  const current = asFailoverState(plan.before, "before").variable;
  const { variable: want, ref } = asFailoverState(plan.after, "after");
  const variable = await restoreVariable(deps.api, current, want);
  if (!ref || want.value === null) return { target: want.value, variable, ref };
  const run = await runPipeline(
    deps,
    ref,
    failoverVariables(want.value, original.target.env ?? null, record.id),
    null,
  );
  return { target: want.value, variable, ref, run };
}
