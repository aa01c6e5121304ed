/**
 * `rollout --previous` on GitLab: run a past deployment again by retrying its deployment job
 * (`POST /projects/:id/jobs/:job_id/retry`), as GitLab's own "Re-deploy" / "Rollback environment"
 * does: same commit, same variables, no rebuild. The previous deployment is the newest
 * successful one older than the environment's newest deployment (the one before a live release,
 * or the last good one after a failed release).
 */
import type { Plan, PreviousDeployment } from "../../core/ports.js";
import { FailedError, UnknownOutcomeError, UsageError } from "../../errors.js";
import type { GitLabDeps } from "./context.js";
import type { RunInfo } from "./pipelines.js";
import { parseTimeout } from "./pipelines.js";
import type { RolloutState } from "./rollout.js";

interface Found extends PreviousDeployment {
  jobId: number;
  pipelineId: number | undefined;
}

const finalStatuses = new Set(["success", "failed", "canceled", "skipped"]);
const known = new WeakMap<GitLabDeps, Map<string, Found>>();
const planned = new WeakMap<Plan, Found>();

export async function previousDeployment(deps: GitLabDeps, env: string, named?: string): Promise<Found> {
  const cache = known.get(deps) ?? new Map<string, Found>();
  known.set(deps, cache);
  const hit = cache.get(`${env}#${named ?? ""}`);
  if (hit) return hit;
  const d = await lookUp(deps, env, named);
  cache.set(`${env}#${named ?? ""}`, d);
  cache.set(`${env}#${d.id}`, d);
  return d;
}

async function lookUp(deps: GitLabDeps, env: string, named?: string): Promise<Found> {
  const list = await deps.api.deployments(env);
  const d = named
    ? list.find((x) => String(x.id) === named)
    : list.slice(1).find((x) => x.status === "success");
  if (!d) {
    throw new UsageError(
      named
        ? `deployment ${named} is not among the 20 newest deployments to ${env} on ${deps.ctx.repo}`
        : `no earlier successful deployment to ${env} on ${deps.ctx.repo} to go back to`,
      { hint: "roll out a known-good artifact with --artifact" },
    );
  }
  if (d.status !== "success")
    throw new UsageError(`deployment ${d.id} to ${env} did not succeed (${d.status})`);
  const jobId = d.deployable?.id;
  if (jobId === undefined) {
    throw new UsageError(`deployment ${d.id} to ${env} has no job to run again`, {
      hint: "roll out its artifact with --artifact instead",
    });
  }
  const pipeline = d.deployable?.pipeline?.id;
  const vars = pipeline === undefined ? undefined : await deps.api.pipelineVariables(pipeline);
  const artifact = vars?.find((v) => v.key === "OPTOUT_ARTIFACT")?.value ?? null;
  return {
    id: String(d.id),
    artifact,
    jobId,
    pipelineId: pipeline,
    summary: `deployment ${d.id}${artifact ? ` (${artifact})` : ""}, job ${jobId}`,
  };
}

export async function planRetry(
  deps: GitLabDeps,
  env: string,
  deployment: string,
  before: RolloutState,
): Promise<Plan> {
  const d = await previousDeployment(deps, env, deployment);
  const plan: Plan = {
    steps: [
      `will retry job ${d.jobId} (${d.summary}) to put it back on ${env} (now ${before.artifact ?? "unknown"})`,
    ],
    calls: [deps.api.call("POST", `/jobs/${d.jobId}/retry`)],
    before,
    after: { artifact: d.artifact },
    external: true,
  };
  planned.set(plan, d);
  return plan;
}

/** Retries the deployment job once; with --wait follows the new job to its end. */
export async function applyRetry(
  deps: GitLabDeps,
  env: string,
  plan: Plan,
  params: Record<string, string | null>,
): Promise<RolloutState & { deployment: string }> {
  const d = planned.get(plan) ?? (await previousDeployment(deps, env, String(params.previous)));
  const job = await deps.api.retryJob(d.jobId);
  const url = job.web_url ?? `${deps.api.host}/${deps.ctx.repo}/-/jobs/${job.id}`;
  let run: RunInfo = { id: job.id, url, conclusion: null };
  if (params.wait === "true")
    run = await waitForJob(deps, job.id, job.status, url, parseTimeout(params.timeoutMs));
  return { artifact: d.artifact, deployment: d.id, run };
}

async function waitForJob(
  deps: GitLabDeps,
  id: number,
  first: string,
  url: string,
  waitMs: number,
): Promise<RunInfo> {
  const started = Date.now();
  let status = first;
  while (!finalStatuses.has(status)) {
    const left = started + waitMs - Date.now();
    if (left <= 0) {
      throw new UnknownOutcomeError(`job ${id} is still ${status}: ${url}`, {
        hint: "it keeps running on GitLab: follow it there, then run `optout sync` to record what happened",
      });
    }
    deps.ctx.progress(`job ${id} ${status} (${Math.round((Date.now() - started) / 1000)} s)`);
    await deps.sleep(Math.min(deps.pollIntervalMs, left));
    status = (await deps.api.job(id)).status;
  }
  if (status !== "success") throw new FailedError(`job ${id} ${status}: ${url}`);
  return { id, url, conclusion: status };
}

/**
 * After an unknown outcome: a retry made a new deployment of the same pipeline to `env` after
 * the intent. None means the retry was never made.
 */
export async function settleRetry(
  deps: GitLabDeps,
  intent: {
    time: string;
    before: unknown;
    target: Record<string, string | null>;
    params?: Record<string, string | null>;
  },
): Promise<{ applied: boolean; after: unknown }> {
  const env = String(intent.target.env);
  const d = await previousDeployment(deps, env, String(intent.params?.previous));
  const since = Date.parse(intent.time) - 60_000;
  const made = (await deps.api.deployments(env)).find(
    (x) =>
      String(x.id) !== d.id &&
      x.deployable?.pipeline?.id === d.pipelineId &&
      Date.parse(x.created_at ?? "") >= since,
  );
  if (!made?.deployable) return { applied: false, after: intent.before };
  const run: RunInfo = {
    id: made.deployable.id,
    url: `${deps.api.host}/${deps.ctx.repo}/-/jobs/${made.deployable.id}`,
    conclusion: finalStatuses.has(made.status) ? made.status : null,
  };
  return { applied: true, after: { artifact: d.artifact, deployment: d.id, run } };
}
