/**
 * Failover (docs/providers.md): set the policy's failover variable to the new target (environment level
 * with an environment), then dispatch the failover workflow if there is one. Revert = fail back
 * to the recorded target. When GitHub confirms the run did not happen or failed (the dispatch
 * refused, the run ended badly), the variable is put back, so a "failed" record never hides a
 * changed variable. When GitHub did not confirm (UnknownOutcomeError: a lost answer, a run that
 * cannot be found, a wait that ran out), nothing is undone: a run that read the variable may be
 * going, and `optout sync` settles what happened.
 */
import type { FailoverPolicy } from "../../core/policy.js";
import type { LedgerState, OverrideSpec, Plan } from "../../core/ports.js";
import type { IndexEntry, LedgerRecord } from "../../core/record.js";
import { FailedError, ForgeError, OptoutError, UnknownOutcomeError, UsageError } from "../../errors.js";
import { type GhContext, quoted } from "./context.js";
import { dispatchCall, type RunRef, rememberRun, runSettings, startRun, waitParams } from "./dispatch.js";
import {
  describeChange,
  readVariable,
  type VariableScope,
  variableCalls,
  writeVariable,
} from "./variables.js";

export interface FailoverState {
  target: string | null;
  run?: RunRef | null;
}

function failoverPolicy(gh: GhContext): FailoverPolicy {
  const p = gh.ctx.policy.failover;
  if (!p || (!p.variable && !p.workflow)) {
    throw new UsageError("failover on GitHub needs a variable to set or a workflow to dispatch", {
      hint: `set "failover.variable" and/or "failover.workflow" in ${gh.ctx.policy.file}`,
    });
  }
  return p;
}

function scopeOf(p: FailoverPolicy, env: string | null): VariableScope | undefined {
  return p.variable ? { name: p.variable, env } : undefined;
}

function inputs(target: string, env: string | null, recordId: string) {
  return { target, environment: env ?? "", optout_record: recordId };
}

/** The target now: the variable's value, else (workflow only) the ledger's active failover. */
async function currentTarget(gh: GhContext, p: FailoverPolicy, env: string | null, state: LedgerState) {
  const scope = scopeOf(p, env);
  if (scope) return readVariable(gh, scope);
  const active = state.index.active.find(
    (e) => (e.op ?? e.type) === "failover" && (e.target.env ?? null) === env,
  );
  return (active?.after as FailoverState | undefined)?.target ?? null;
}

async function planMove(
  gh: GhContext,
  p: FailoverPolicy,
  env: string | null,
  from: string | null,
  to: string | null,
) {
  const scope = scopeOf(p, env);
  const run = p.workflow ? await runSettings(gh, { workflow: p.workflow, ref: p.ref }) : undefined;
  const steps = [
    ...(scope ? [describeChange(scope, to, from)] : []),
    ...(run && to ? [`will dispatch ${run.workflow} on ${run.ref} with target ${to}`] : []),
  ];
  const calls = [
    ...(scope ? variableCalls(gh, scope, to, from) : []),
    ...(run && to ? [dispatchCall(gh, { ...run, inputs: inputs(to, env, "<record id>") })] : []),
  ];
  const plan: Plan = { steps, calls, before: { target: from }, after: { target: to }, external: true };
  if (run) rememberRun(plan, run);
  return plan;
}

export async function planFailover(gh: GhContext, spec: OverrideSpec, state: LedgerState): Promise<Plan> {
  const p = failoverPolicy(gh);
  const env = spec.target.env ?? null;
  const from = await currentTarget(gh, p, env, state);
  const plan = await planMove(gh, p, env, from, String(spec.target.target));
  if (waitParams(spec.params).wait && p.workflow) plan.steps.push("will wait for the failover run");
  return plan;
}

/** Moves from `from` to `to`: the variable, then the workflow; on failure the variable goes back. */
async function move(
  gh: GhContext,
  plan: Plan,
  env: string | null,
  from: string | null,
  to: string | null,
  recordId: string,
  params: Record<string, string | null> | undefined,
): Promise<FailoverState> {
  const p = failoverPolicy(gh);
  const scope = scopeOf(p, env);
  if (scope) await writeVariable(gh, scope, to, from);
  if (!p.workflow || !to) return { target: to };
  try {
    const run = await runSettings(gh, { workflow: p.workflow, ref: p.ref }, plan);
    const started = await startRun(gh, run, inputs(to, env, recordId), recordId, params, `failover to ${to}`);
    return { target: to, run: started };
  } catch (e) {
    // Interrupted or not confirmed: leave it as it is; `optout sync` settles it from GitHub.
    if (!scope || !(e instanceof OptoutError) || e instanceof UnknownOutcomeError || gh.signal?.aborted)
      throw e;
    const undo = await writeVariable(gh, scope, from, to).then(
      () => `${scope.name} was set back to ${quoted(from)}`,
      () =>
        `${scope.name} could not be set back and is still ${quoted(to)}: set it to ${quoted(from)} by hand`,
    );
    const opts = e.hint ? { hint: e.hint } : {};
    throw e instanceof ForgeError
      ? new ForgeError(e.forge, e.status, `${e.message}; ${undo}`, opts)
      : new FailedError(`${e.message}; ${undo}`, opts);
  }
}

export function applyFailover(gh: GhContext, spec: OverrideSpec, plan: Plan, record: LedgerRecord) {
  const before = (plan.before as FailoverState).target;
  return move(gh, plan, spec.target.env ?? null, before, String(spec.target.target), record.id, spec.params);
}

export async function planFailoverRestore(
  gh: GhContext,
  entry: IndexEntry,
  original: LedgerRecord,
): Promise<Plan> {
  const p = failoverPolicy(gh);
  const env = entry.target.env ?? null;
  const previous = (original.before as FailoverState | null)?.target ?? null;
  if (previous === null && p.workflow) {
    throw new UsageError(`nothing to fail back to: no target was recorded before ${entry.id}`, {
      hint: "fail over to a known target instead",
    });
  }
  const current = (entry.after as FailoverState | undefined)?.target ?? entry.target.target ?? null;
  const known = scopeOf(p, env) ? await readVariable(gh, scopeOf(p, env)!) : current;
  return planMove(gh, p, env, known, previous);
}

export function restoreFailover(
  gh: GhContext,
  entry: IndexEntry,
  original: LedgerRecord,
  plan: Plan,
  record: LedgerRecord,
) {
  const from = (plan.before as FailoverState).target;
  const to = (plan.after as FailoverState).target;
  return move(gh, plan, entry.target.env ?? null, from, to, record.id, original.params);
}
