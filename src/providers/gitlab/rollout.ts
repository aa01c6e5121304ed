/**
 * Artifact-only rollout: a pipeline on the rollout ref with OPTOUT_ARTIFACT, OPTOUT_ENVIRONMENT,
 * OPTOUT_SKIP and OPTOUT_RECORD as pipeline variables, or as the inputs artifact, environment,
 * skip and optout_record where the project forbids pipeline variables. A revert rolls the
 * previous artifact out again.
 */
import { formatDuration } from "../../core/duration.js";
import type { LedgerState, OverrideSpec, Plan } from "../../core/ports.js";
import type { LedgerRecord } from "../../core/record.js";
import { FailedError, UsageError } from "../../errors.js";
import type { GitLabDeps } from "./context.js";
import {
  createCall,
  parseTimeout,
  passingMode,
  pipelineArgs,
  pipelineRef,
  previousArtifact,
  type RunInfo,
  runPipeline,
} from "./pipelines.js";
import { applyRetry, planRetry } from "./previous.js";

export interface RolloutState {
  artifact: string | null;
  /** The ref the pipeline ran on. */
  ref?: string;
  run?: RunInfo;
}

function rolloutVariables(artifact: string, env: string, skip: string | null | undefined, record: string) {
  return pipelineArgs({
    artifact: ["OPTOUT_ARTIFACT", artifact],
    environment: ["OPTOUT_ENVIRONMENT", env],
    skip: ["OPTOUT_SKIP", skip],
    optout_record: ["OPTOUT_RECORD", record],
  });
}

function targetOf(t: Record<string, string | null>): { env: string; artifact: string } {
  if (!t.env || !t.artifact) throw new UsageError("a rollout needs --artifact and --env");
  return { env: t.env, artifact: t.artifact };
}

export async function planRollout(deps: GitLabDeps, spec: OverrideSpec, state: LedgerState): Promise<Plan> {
  const policy = deps.ctx.policy.rollout;
  if (!policy)
    throw new UsageError(`the policy has no "rollout" section`, {
      hint: `add one to ${deps.ctx.policy.file}`,
    });
  if (spec.params.previous) {
    const env = String(spec.target.env);
    const now = await previousArtifact(deps, state, env);
    return planRetry(deps, env, spec.params.previous, { artifact: now.artifact });
  }
  const { env, artifact } = targetOf(spec.target);
  const ref = await pipelineRef(deps, policy.ref);
  const prev = await previousArtifact(deps, state, env);
  const skip = spec.params.skip || null;
  const wait = spec.params.wait === "true" ? parseTimeout(spec.params.timeoutMs) : null;
  return {
    steps: [
      `will create a pipeline on ${ref} deploying ${artifact} to ${env}${skip ? `, skipping ${skip}` : ""}` +
        (wait ? `, and follow it for up to ${formatDuration(wait)}` : ""),
      prev.artifact
        ? `before: ${prev.artifact} (from ${prev.source})`
        : `before: unknown (${prev.source}); a revert will have to name an artifact`,
    ],
    calls: [createCall(deps, ref, rolloutVariables(artifact, env, skip, "<record id>"), passingMode(deps))],
    before: { artifact: prev.artifact } satisfies RolloutState,
    after: { artifact, ref } satisfies RolloutState,
    external: true,
  };
}

export async function applyRollout(
  deps: GitLabDeps,
  spec: OverrideSpec,
  plan: Plan,
  record: LedgerRecord,
): Promise<RolloutState> {
  if (spec.params.previous) return applyRetry(deps, String(spec.target.env), plan, spec.params);
  const { env, artifact } = targetOf(spec.target);
  const ref = (plan.after as RolloutState).ref!;
  const wait = spec.params.wait === "true" ? parseTimeout(spec.params.timeoutMs) : null;
  const run = await runPipeline(
    deps,
    ref,
    rolloutVariables(artifact, env, spec.params.skip, record.id),
    wait,
  );
  return { artifact, ref, run };
}

export async function planRolloutRestore(
  deps: GitLabDeps,
  current: unknown,
  original: LedgerRecord,
): Promise<Plan> {
  const { env } = targetOf(original.target);
  const before = (original.before as RolloutState | null)?.artifact ?? null;
  if (!before) {
    throw new UsageError(
      `the artifact in ${env} before rollout ${original.id} is not known, so it cannot be rolled back`,
      {
        hint: `roll out the artifact you want: optout rollout --artifact <ref> --env ${env} --reason …`,
      },
    );
  }
  const ref =
    (original.after as RolloutState | null)?.ref ?? (await pipelineRef(deps, deps.ctx.policy.rollout?.ref));
  const now = (current as RolloutState | null)?.artifact ?? original.target.artifact ?? null;
  return {
    steps: [
      `will create a pipeline on ${ref} deploying ${before} to ${env} again (now: ${now ?? "unknown"})`,
    ],
    calls: [createCall(deps, ref, rolloutVariables(before, env, null, "<record id>"), passingMode(deps))],
    before: { artifact: now } satisfies RolloutState,
    after: { artifact: before, ref } satisfies RolloutState,
    external: true,
  };
}

/** Rolls `plan.after.artifact` out again; a revert does not skip stages and does not wait. */
export async function restoreRollout(
  deps: GitLabDeps,
  plan: Plan,
  original: LedgerRecord,
  record: LedgerRecord,
): Promise<RolloutState> {
  const { env } = targetOf(original.target);
  const { artifact, ref } = plan.after as RolloutState;
  if (!artifact || !ref) throw new FailedError("the revert plan names no artifact or ref");
  const run = await runPipeline(deps, ref, rolloutVariables(artifact, env, null, record.id), null);
  return { artifact, ref, run };
}
