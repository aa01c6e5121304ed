/**
 * Dispatching a workflow and following its run. `return_run_details: true` makes GitHub answer
 * 200 with the run id; where it does not (204, or older Enterprise Server rejecting the field
 * with 400/422), the run is found by listing the workflow's dispatch runs and matching the record
 * id the workflow puts in its `run-name`.
 *
 * What GitHub did not confirm is reported as UnknownOutcomeError, never as a failure: a dispatch
 * whose answer was lost and whose run cannot be found, a run that cannot be found after a
 * dispatch GitHub accepted, a `--wait` that ran out. `optout sync` settles those by reading
 * GitHub (settle.ts).
 */
import { formatDuration } from "../../core/duration.js";
import type { Plan } from "../../core/ports.js";
import { FailedError, ForgeError, UnknownOutcomeError } from "../../errors.js";
import { callLine, type GhContext, repoParams, sleep } from "./context.js";
import { reviewWait } from "./reviews.js";
import { dispatchSchema, parse, repositorySchema, runListSchema, runSchema } from "./schemas.js";

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
const settleHint = "run `optout sync` to read from GitHub what happened and record it";
const runNameHint =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not JS
  "the workflow should name its runs with the record: `run-name: deploy (${{ inputs.optout_record }})`";

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
): Promise<RunRef> {
  const { wait, timeoutMs } = waitParams(params);
  const started = await dispatch(gh, { ...run, inputs, recordId });
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
  const r = await gh.client.request<unknown>("GET /repos/{owner}/{repo}", repoParams(gh), {
    action: "read the repository",
  });
  return parse(repositorySchema, r.data, "GET /repos/{owner}/{repo}").default_branch;
}

/** A failure after the request left: GitHub may have acted (5xx, a timeout, a lost answer). */
export function unanswered(e: unknown): e is ForgeError {
  return e instanceof ForgeError && (e.status === 0 || e.status >= 500) && e.sent;
}

/**
 * Dispatches once (a deployment must not start twice) and returns its run. Throws
 * UnknownOutcomeError when GitHub may have started a run that cannot be found.
 */
export async function dispatch(gh: GhContext, d: DispatchInput): Promise<RunRef> {
  // GitHub's clock and ours may differ: look a little further back than "now".
  const since = new Date(gh.ctx.now().getTime() - 5 * 60_000);
  const send = (details: boolean) =>
    gh.client.request<unknown>(
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
  // for it, rather than dispatching a second deployment or calling it failed.
  const sendOrFind = async (details: boolean) => {
    try {
      return await send(details);
    } catch (e) {
      if (!unanswered(e)) throw e;
      const run = await findRun(gh, d, since, 3).catch(() => null);
      if (run) return run;
      throw new UnknownOutcomeError(
        `GitHub did not confirm the dispatch of ${d.workflow} (${e.message}), and no run for ${d.recordId} is listed yet`,
        { hint: settleHint, cause: e },
      );
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
  if (reply.status === 200) {
    const body = parse(dispatchSchema, reply.data, dispatchRoute);
    if (typeof body?.workflow_run_id === "number") {
      return { id: body.workflow_run_id, url: String(body.html_url ?? ""), conclusion: null };
    }
  }
  // 204: GitHub accepted the dispatch but does not return the run; find it by the record id.
  let run: RunRef | null;
  try {
    run = await findRun(gh, d, since);
  } catch (e) {
    if (!(e instanceof ForgeError)) throw e;
    throw new UnknownOutcomeError(
      `GitHub accepted the dispatch of ${d.workflow}, but listing its runs failed (${e.message})`,
      { hint: settleHint, cause: e },
    );
  }
  if (run) return run;
  throw new UnknownOutcomeError(
    `GitHub accepted the dispatch of ${d.workflow}, but no run named with ${d.recordId} is listed`,
    { hint: `${runNameHint}; then ${settleHint}` },
  );
}

/**
 * The run a dispatch started, by the record id in its name. A new run shows up in the list a
 * few seconds after the dispatch, so the list is polled with backoff (about 20 s in all). The
 * list is filtered on `created_at` here: GitHub's `created` parameter takes a date-time, and
 * Enterprise Server's validation refuses the search syntax (`>=…`) that github.com accepts.
 */
export async function findRun(
  gh: GhContext,
  d: Pick<DispatchInput, "workflow" | "recordId">,
  since: Date,
  tries = 6,
): Promise<RunRef | null> {
  const delays = [0, 1_000, 2_000, 3_000, 5_000, 8_000].slice(0, tries).map((ms) => (ms * gh.pollMs) / 5_000);
  const route = "GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs";
  for (const delay of delays) {
    if (delay) await sleep(delay, gh.signal);
    const r = await gh.client.request<unknown>(
      route,
      { ...repoParams(gh), workflow_id: d.workflow, event: "workflow_dispatch", per_page: 30 },
      { action: "read workflow runs" },
    );
    const run = parse(runListSchema, r.data, route).workflow_runs.find(
      (x) =>
        Date.parse(x.created_at) >= since.getTime() &&
        (x.name?.includes(d.recordId) || x.display_title?.includes(d.recordId)),
    );
    if (run) return { id: run.id, url: run.html_url, conclusion: null };
  }
  return null;
}

/** One read of a run. */
export async function readRun(gh: GhContext, id: number) {
  const route = "GET /repos/{owner}/{repo}/actions/runs/{run_id}";
  const r = await gh.client.request<unknown>(
    route,
    { ...repoParams(gh), run_id: id },
    { action: "read workflow runs" },
  );
  return parse(runSchema, r.data, route);
}

/**
 * Polls a run until it completes (or `timeoutMs` passes), telling the spinner how it goes.
 * While the run waits on an environment's protection rules (status `waiting`), it says for whom
 * or for what: "waiting for review by @alice or team acme/release (environment production)".
 */
export async function waitForRun(
  gh: GhContext,
  run: RunRef,
  timeoutMs: number,
  what: string,
): Promise<RunRef> {
  const started = Date.now();
  let waitingFor: string | undefined;
  for (;;) {
    let r: Awaited<ReturnType<typeof readRun>>;
    try {
      r = await readRun(gh, run.id);
    } catch (e) {
      if (!(e instanceof ForgeError) || e.status === 401 || e.status === 403) throw e;
      throw new UnknownOutcomeError(`${what}: lost track of run ${run.id} (${e.message}): ${run.url}`, {
        hint: `it may still be running; ${settleHint}`,
        cause: e,
      });
    }
    const url = r.html_url || run.url;
    const elapsed = Date.now() - started;
    if (r.status === "completed") {
      const conclusion = r.conclusion ?? "unknown";
      if (conclusion !== "success") {
        throw new FailedError(`${what}: the run ended ${conclusion}: ${url}`, { hint: "its log says why" });
      }
      return { id: run.id, url, conclusion };
    }
    if (elapsed >= timeoutMs) {
      throw new UnknownOutcomeError(
        `${what}: the run did not finish within ${formatDuration(timeoutMs)}${waitingFor ? ` (${waitingFor})` : ""}: ${url}`,
        { hint: `it may still run; follow it there, then ${settleHint}` },
      );
    }
    if (r.status === "waiting") waitingFor ??= await reviewWait(gh, run.id);
    else waitingFor = undefined;
    const state = waitingFor ?? r.status ?? "queued";
    gh.ctx.progress(`${what}: run ${run.id} ${state} (${formatDuration(elapsed)}) ${url}`);
    await sleep(Math.min(gh.pollMs, Math.max(1, timeoutMs - elapsed)), gh.signal);
  }
}
