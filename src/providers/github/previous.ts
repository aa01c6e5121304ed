/**
 * `rollout --previous` on GitHub: run a past deployment again by re-running the workflow run
 * that made it (`POST /repos/{o}/{r}/actions/runs/{run_id}/rerun`): same commit, same inputs, no
 * rebuild. A deployment made by GitHub Actions names its run in its statuses' `log_url` (or
 * `target_url`). The previous deployment is the newest successful one older than the
 * environment's newest deployment, so it is the one before a live release, or the last good
 * one after a failed release.
 */
import type { Plan, PreviousDeployment } from "../../core/ports.js";
import { type ForgeError, UnknownOutcomeError, UsageError } from "../../errors.js";
import { callLine, type GhContext, repoParams } from "./context.js";
import { type RunRef, unanswered, waitForRun, waitParams } from "./dispatch.js";
import type { RolloutState } from "./rollout.js";
import { deploymentStatusesSchema, deploymentsSchema, parse } from "./schemas.js";

interface Found extends PreviousDeployment {
  runId: number;
}

const found = new WeakMap<Plan, Found>();

function runIdOf(urls: (string | null | undefined)[]): number | undefined {
  for (const u of urls) {
    const m = /\/actions\/runs\/(\d+)/.exec(u ?? "");
    if (m) return Number(m[1]);
  }
  return undefined;
}

function artifactOf(payload: unknown): string | null {
  if (typeof payload === "string") {
    try {
      return artifactOf(JSON.parse(payload));
    } catch {
      return null;
    }
  }
  const a = (payload as { artifact?: unknown } | null)?.artifact;
  return typeof a === "string" && a ? a : null;
}

/** The latest status of a deployment, with the run it names. */
async function latestStatus(gh: GhContext, id: number) {
  const route = "GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses";
  const r = await gh.client.request<unknown>(
    route,
    { ...repoParams(gh), deployment_id: id, per_page: 1 },
    { action: "read deployments" },
  );
  const s = parse(deploymentStatusesSchema, r.data, route)[0];
  return s ? { state: s.state, runId: runIdOf([s.log_url, s.target_url]) } : undefined;
}

/** Found once per command: the command names it, then the plan re-runs that very one. */
const known = new WeakMap<GhContext["client"], Map<string, Found>>();

export async function previousDeployment(gh: GhContext, env: string, named?: string): Promise<Found> {
  const cache = known.get(gh.client) ?? new Map<string, Found>();
  known.set(gh.client, cache);
  const hit = cache.get(`${env}#${named ?? ""}`);
  if (hit) return hit;
  const d = await lookUp(gh, env, named);
  cache.set(`${env}#${named ?? ""}`, d);
  cache.set(`${env}#${d.id}`, d);
  return d;
}

async function lookUp(gh: GhContext, env: string, named?: string): Promise<Found> {
  const route = "GET /repos/{owner}/{repo}/deployments";
  const r = await gh.client.request<unknown>(
    route,
    { ...repoParams(gh), environment: env, per_page: 20 },
    { action: "read deployments" },
  );
  const list = parse(deploymentsSchema, r.data, route);
  // Named: that one; else skip the newest (what is there now, or what failed) for an older success.
  const candidates = named ? list.filter((d) => String(d.id) === named) : list.slice(1);
  for (const d of candidates) {
    const s = await latestStatus(gh, d.id);
    if (s?.state !== "success") {
      if (named)
        throw new UsageError(`deployment ${named} to ${env} did not succeed (${s?.state ?? "no status"})`);
      continue;
    }
    if (s.runId === undefined) {
      throw new UsageError(`deployment ${d.id} to ${env} names no workflow run, so it cannot be run again`, {
        hint: "roll out its artifact with --artifact instead",
      });
    }
    const artifact = artifactOf(d.payload);
    return {
      id: String(d.id),
      artifact,
      runId: s.runId,
      summary: `deployment ${d.id}${artifact ? ` (${artifact})` : ""}, run ${s.runId}`,
    };
  }
  throw new UsageError(
    named
      ? `deployment ${named} is not among the 20 newest deployments to ${env} on ${gh.owner}/${gh.name}`
      : `no earlier successful deployment to ${env} on ${gh.owner}/${gh.name} to go back to`,
    { hint: "roll out a known-good artifact with --artifact" },
  );
}

const rerunRoute = "POST /repos/{owner}/{repo}/actions/runs/{run_id}/rerun";

export async function planRerun(
  gh: GhContext,
  env: string,
  deployment: string,
  before: RolloutState,
): Promise<Plan> {
  const d = await previousDeployment(gh, env, deployment);
  const plan: Plan = {
    steps: [
      `will re-run workflow run ${d.runId} (${d.summary}) to put it back on ${env} (now ${before.artifact ?? "unknown"})`,
    ],
    calls: [callLine(gh, rerunRoute, { run_id: d.runId })],
    before,
    after: { artifact: d.artifact },
    external: true,
  };
  found.set(plan, d);
  return plan;
}

/** Re-runs the deployment's run once, and with --wait follows its new attempt. */
export async function applyRerun(
  gh: GhContext,
  env: string,
  plan: Plan,
  params: Record<string, string | null>,
): Promise<RolloutState & { deployment: string }> {
  const d = found.get(plan) ?? (await previousDeployment(gh, env, String(params.previous)));
  try {
    await gh.client.request(
      rerunRoute,
      { ...repoParams(gh), run_id: d.runId },
      // A second re-run would deploy twice: never repeated after an ambiguous failure.
      { action: "re-run workflows", once: true },
    );
  } catch (e) {
    if (!unanswered(e)) throw e;
    throw new UnknownOutcomeError(
      `GitHub did not confirm the re-run of run ${d.runId} (${(e as ForgeError).message})`,
      {
        hint: "run `optout sync` to read from GitHub what happened and record it",
        cause: e,
      },
    );
  }
  const ref: RunRef = {
    id: d.runId,
    url: `${gh.client.serverUrl}/${gh.owner}/${gh.name}/actions/runs/${d.runId}`,
    conclusion: null,
  };
  const { wait, timeoutMs } = waitParams(params);
  const after = wait ? await waitForRun(gh, ref, timeoutMs, `re-run of ${d.summary} on ${env}`) : ref;
  return { artifact: d.artifact, deployment: d.id, run: after };
}
