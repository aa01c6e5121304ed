/**
 * Rollout (docs/providers.md): dispatch the policy's workflow with the artifact; revert = roll out the
 * artifact that was there before. `before` comes from the ledger's active rollout for the
 * environment, else the last successful deployment GitHub knows of.
 */
import { formatDuration } from "../../core/duration.js";
import type { RolloutPolicy } from "../../core/policy.js";
import type { LedgerState, OverrideSpec, Plan } from "../../core/ports.js";
import type { IndexEntry, LedgerRecord } from "../../core/record.js";
import { UsageError } from "../../errors.js";
import { type GhContext, quoted, repoParams } from "./context.js";
import { dispatchCall, type RunRef, rememberRun, runSettings, startRun, waitParams } from "./dispatch.js";
import { applyRerun, planRerun } from "./previous.js";
import { deploymentStatusesSchema, deploymentsSchema, parse } from "./schemas.js";

export interface RolloutState {
  artifact: string | null;
  run?: RunRef | null;
}

function rolloutPolicy(gh: GhContext): RolloutPolicy & { workflow: string } {
  const p = gh.ctx.policy.rollout;
  if (!p?.workflow) {
    throw new UsageError("rollout on GitHub needs a workflow to dispatch", {
      hint: `set "rollout.workflow" (e.g. "deploy.yml") in ${gh.ctx.policy.file}`,
    });
  }
  return { ...p, workflow: p.workflow };
}

/** What is deployed to `env` now: the ledger's active rollout, else GitHub's last successful deployment. */
async function deployedArtifact(gh: GhContext, state: LedgerState, env: string): Promise<string | null> {
  const active = state.index.active.find((e) => (e.op ?? e.type) === "rollout" && e.target.env === env);
  const fromLedger = (active?.after as RolloutState | undefined)?.artifact;
  if (fromLedger) return fromLedger;
  const list = "GET /repos/{owner}/{repo}/deployments";
  const deployments = await gh.client.request<unknown>(
    list,
    { ...repoParams(gh), environment: env, per_page: 5 },
    { action: "read deployments" },
  );
  // Newest first; only a deployment whose latest status is success counts as "deployed".
  for (const d of parse(deploymentsSchema, deployments.data, list)) {
    const route = "GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses";
    const statuses = await gh.client.request<unknown>(
      route,
      { ...repoParams(gh), deployment_id: d.id, per_page: 1 },
      { action: "read deployments" },
    );
    if (parse(deploymentStatusesSchema, statuses.data, route)[0]?.state !== "success") continue;
    const artifact = artifactOf(d.payload);
    if (artifact) return artifact;
  }
  return null;
}

function artifactOf(payload: unknown): string | null {
  if (typeof payload === "string") {
    try {
      return artifactOf(JSON.parse(payload));
    } catch {
      return payload.trim() || null;
    }
  }
  const a = (payload as { artifact?: unknown } | null)?.artifact;
  return typeof a === "string" && a ? a : null;
}

function inputs(env: string, artifact: string, skip: string | null | undefined, recordId: string) {
  return { artifact, environment: env, skip: skip ?? "", optout_record: recordId };
}

export async function planRollout(gh: GhContext, spec: OverrideSpec, state: LedgerState): Promise<Plan> {
  const env = String(spec.target.env);
  if (spec.params.previous) {
    return planRerun(gh, env, spec.params.previous, { artifact: await deployedArtifact(gh, state, env) });
  }
  const p = rolloutPolicy(gh);
  const artifact = String(spec.target.artifact);
  const run = await runSettings(gh, p);
  const before: RolloutState = { artifact: await deployedArtifact(gh, state, env) };
  const { wait, timeoutMs } = waitParams(spec.params);
  const plan: Plan = {
    steps: [
      `will dispatch ${p.workflow} on ${run.ref} to roll out ${artifact} to ${env} (now ${before.artifact ? quoted(before.artifact) : "unknown"})`,
      ...(spec.params.skip ? [`the run skips: ${spec.params.skip}`] : []),
      ...(wait ? [`will wait for the run (up to ${formatDuration(timeoutMs)})`] : []),
    ],
    calls: [
      dispatchCall(gh, {
        ...run,
        inputs: inputs(env, artifact, spec.params.skip, spec.recordId ?? "<record id>"),
      }),
    ],
    before,
    after: { artifact },
    external: true,
  };
  rememberRun(plan, run);
  return plan;
}

export async function applyRollout(
  gh: GhContext,
  spec: OverrideSpec,
  plan: Plan,
  record: LedgerRecord,
): Promise<RolloutState> {
  const env = String(spec.target.env);
  if (spec.params.previous) return applyRerun(gh, env, plan, spec.params);
  const run = await runSettings(gh, rolloutPolicy(gh), plan);
  const artifact = String(spec.target.artifact);
  const started = await startRun(
    gh,
    run,
    inputs(env, artifact, spec.params.skip, record.id),
    record.id,
    spec.params,
    `rollout of ${artifact} to ${env}`,
  );
  return { artifact, run: started };
}

export async function planRolloutRestore(
  gh: GhContext,
  entry: IndexEntry,
  original: LedgerRecord,
): Promise<Plan> {
  const p = rolloutPolicy(gh);
  const env = String(entry.target.env);
  const previous = (original.before as RolloutState | null)?.artifact ?? null;
  if (!previous) {
    throw new UsageError(`nothing to roll back to: no artifact was known on ${env} before ${entry.id}`, {
      hint: "roll out a known-good artifact instead",
    });
  }
  const run = await runSettings(gh, p);
  const current = (entry.after as RolloutState | undefined)?.artifact ?? String(entry.target.artifact);
  const plan: Plan = {
    steps: [`will dispatch ${p.workflow} on ${run.ref} to roll ${env} back to ${previous} (from ${current})`],
    calls: [dispatchCall(gh, { ...run, inputs: inputs(env, previous, "", "<revert record id>") })],
    before: { artifact: current },
    after: { artifact: previous },
    external: true,
  };
  rememberRun(plan, run);
  return plan;
}

export async function restoreRollout(
  gh: GhContext,
  entry: IndexEntry,
  original: LedgerRecord,
  plan: Plan,
  record: LedgerRecord,
): Promise<RolloutState> {
  const run = await runSettings(gh, rolloutPolicy(gh), plan);
  const artifact = String((plan.after as RolloutState).artifact);
  // Wait for the roll-back as the rollout itself was waited for; the skip list is not repeated.
  const params = { wait: original.params?.wait ?? null, timeoutMs: original.params?.timeoutMs ?? null };
  const env = String(entry.target.env);
  const started = await startRun(
    gh,
    run,
    inputs(env, artifact, "", record.id),
    record.id,
    params,
    `roll-back of ${env} to ${artifact}`,
  );
  return { artifact, run: started };
}
