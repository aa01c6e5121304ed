/**
 * Dispatching a workflow and following its run (forges.md, Rollout). `return_run_details: true`
 * makes GitHub answer 200 with the run id; where it does not (204, or older Enterprise Server
 * rejecting the field with 400/422), the run is found by listing the workflow's dispatch runs
 * and matching the record id the workflow puts in its `run-name`.
 */
import { formatDuration } from "../../core/duration.js";
import type { Plan } from "../../core/ports.js";
import { FailedError, ForgeError } from "../../errors.js";
import { callLine, type GhContext, repoParams, sleep } from "./context.js";

export interface RunRef {
  id: number;
  url: string;
  conclusion: string | null;
}

export interface DispatchInput {
  workflow: string;
  ref: string;
  inputs: Record<string, string>;
  recordId: string;
}

/** How a rollout or failover runs on GitHub: the workflow and the ref it is dispatched on. */
export interface RunSettings {
  workflow: string;
  ref: string;
}

const defaultWaitMs = 30 * 60_000;

/** The workflow and ref a plan resolved, so apply does not ask GitHub for the default branch again. */
const planned = new WeakMap<Plan, RunSettings>();

export function rememberRun(plan: Plan, run: RunSettings): void {
  planned.set(plan, run);
}

/** The workflow and ref to dispatch: the policy's ref, else the repository's default branch. */
export async function runSettings(
  gh: GhContext,
  p: { workflow: string; ref?: string | undefined },
  plan?: Plan,
): Promise<RunSettings> {
  const known = plan && planned.get(plan);
  if (known) return known;
  return { workflow: p.workflow, ref: p.ref ?? (await defaultBranch(gh)) };
}

/** `--wait` and its limit from an override's params (default 30 min). */
export function waitParams(params: Record<string, string | null> | undefined): {
  wait: boolean;
  timeoutMs: number;
} {
  const t = Number(params?.timeoutMs);
  return { wait: params?.wait === "true", timeoutMs: Number.isFinite(t) && t > 0 ? t : defaultWaitMs };
}

/** Dispatches, finds the run, and with `--wait` follows it to success (or throws FailedError). */
export async function startRun(
  gh: GhContext,
  run: RunSettings,
  inputs: Record<string, string>,
  recordId: string,
  params: Record<string, string | null> | undefined,
  what: string,
): Promise<RunRef | null> {
  const { wait, timeoutMs } = waitParams(params);
  const started = await dispatch(gh, { ...run, inputs, recordId });
  if (!started) {
    const missing = `dispatched ${run.workflow}, but found no run named with ${recordId}`;
    const hint =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not JS
      "the workflow should name its runs with the record: `run-name: deploy (${{ inputs.optout_record }})`";
    if (wait) throw new FailedError(`${missing}, so cannot wait for it`, { hint });
    gh.ctx.warn(`${missing}; ${hint}`);
    return null;
  }
  return wait ? waitForRun(gh, started, timeoutMs, what) : started;
}

const dispatchRoute = "POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches";

export function dispatchCall(gh: GhContext, d: Omit<DispatchInput, "recordId">): string {
  const inputs = Object.entries(d.inputs)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  return `${callLine(gh, dispatchRoute, { workflow_id: d.workflow })} (ref ${d.ref}; inputs ${inputs})`;
}

/** The repository's default branch: where a workflow runs when the policy names no ref. */
export async function defaultBranch(gh: GhContext): Promise<string> {
  const r = await gh.client.request<{ default_branch: string }>("GET /repos/{owner}/{repo}", repoParams(gh), {
    action: "read the repository",
  });
  return r.data.default_branch;
}

/** Dispatches once (a deployment must not start twice) and returns its run, if it can be found. */
export async function dispatch(gh: GhContext, d: DispatchInput): Promise<RunRef | null> {
  // GitHub's clock and ours may differ: look a little further back than "now".
  const since = new Date(gh.ctx.now().getTime() - 5 * 60_000);
  const send = (details: boolean) =>
    gh.client.request<{ workflow_run_id?: number; html_url?: string }>(
      dispatchRoute,
      {
        ...repoParams(gh),
        workflow_id: d.workflow,
        ref: d.ref,
        inputs: d.inputs,
        ...(details ? { return_run_details: true } : {}),
      },
      {
        action: "dispatch workflows",
        once: true,
        notFound: `GitHub: workflow ${d.workflow} not found on ${gh.owner}/${gh.name}, or the token cannot see it (404)`,
      },
    );
  // A dispatch that failed without an answer (5xx, timeout) may still have started a run: look
  // for it before giving up, rather than dispatching a second deployment.
  const sendOrFind = async (details: boolean) => {
    try {
      return await send(details);
    } catch (e) {
      if (!(e instanceof ForgeError) || (e.status !== 0 && e.status < 500)) throw e;
      const run = await findRun(gh, d, since, 3);
      if (run) return run;
      throw e;
    }
  };
  let reply: Awaited<ReturnType<typeof sendOrFind>>;
  try {
    reply = await sendOrFind(true);
  } catch (e) {
    const unknownField = e instanceof ForgeError && (e.status === 400 || e.status === 422);
    if (!unknownField || !/return_run_details/.test(e.message)) throw e;
    // Older Enterprise Server does not know the field and refuses the whole request.
    gh.ctx.log("dispatch: this GitHub does not know return_run_details; dispatching without it");
    reply = await sendOrFind(false);
  }
  if ("url" in reply) return reply;
  if (reply.status === 200 && typeof reply.data?.workflow_run_id === "number") {
    return { id: reply.data.workflow_run_id, url: String(reply.data.html_url ?? ""), conclusion: null };
  }
  // 204: this server does not return the run; find it by the record id in its name.
  return findRun(gh, d, since);
}

/**
 * The run a dispatch started, by the record id in its name. A new run shows up in the list a
 * few seconds after the dispatch, so the list is polled with backoff (about 20 s in all).
 */
export async function findRun(
  gh: GhContext,
  d: DispatchInput,
  since: Date,
  tries = 6,
): Promise<RunRef | null> {
  const created = `>=${since.toISOString().replace(/\.\d{3}Z$/, "Z")}`;
  const delays = [0, 1_000, 2_000, 3_000, 5_000, 8_000].slice(0, tries).map((ms) => (ms * gh.pollMs) / 5_000);
  for (const delay of delays) {
    if (delay) await sleep(delay, gh.signal);
    const r = await gh.client.request<{
      workflow_runs: Array<{ id: number; name?: string | null; display_title?: string; html_url: string }>;
    }>(
      "GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs",
      { ...repoParams(gh), workflow_id: d.workflow, event: "workflow_dispatch", created, per_page: 30 },
      { action: "read workflow runs" },
    );
    const run = r.data.workflow_runs.find(
      (x) => x.name?.includes(d.recordId) || x.display_title?.includes(d.recordId),
    );
    if (run) return { id: run.id, url: run.html_url, conclusion: null };
  }
  return null;
}

/** Polls a run until it completes (or `timeoutMs` passes), telling the spinner how it goes. */
export async function waitForRun(
  gh: GhContext,
  run: RunRef,
  timeoutMs: number,
  what: string,
): Promise<RunRef> {
  const started = Date.now();
  for (;;) {
    const r = await gh.client.request<{ status: string; conclusion: string | null; html_url: string }>(
      "GET /repos/{owner}/{repo}/actions/runs/{run_id}",
      { ...repoParams(gh), run_id: run.id },
      { action: "read workflow runs" },
    );
    const url = r.data.html_url || run.url;
    const elapsed = Date.now() - started;
    if (r.data.status === "completed") {
      const conclusion = r.data.conclusion ?? "unknown";
      if (conclusion !== "success") {
        throw new FailedError(`${what}: the run ended ${conclusion}: ${url}`, {
          hint: "its log says why",
        });
      }
      return { id: run.id, url, conclusion };
    }
    if (elapsed >= timeoutMs) {
      throw new FailedError(`${what}: the run did not finish within ${formatDuration(timeoutMs)}: ${url}`, {
        hint: "it may still be running: follow it there, and revert if it ends badly",
      });
    }
    gh.ctx.progress(`${what}: run ${run.id} ${r.data.status} (${formatDuration(elapsed)}) ${url}`);
    await sleep(Math.min(gh.pollMs, Math.max(1, timeoutMs - elapsed)), gh.signal);
  }
}
