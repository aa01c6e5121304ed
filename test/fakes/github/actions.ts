/**
 * Actions operations: variables (repo and environment), workflow dispatch and runs. GitHub's
 * answers: 409 for a variable that exists, 422 "Unexpected inputs provided" / "No ref found for",
 * and (older Enterprise Server) 422 for the unknown key return_run_details.
 */
import { type Call, denyWrite, ex, type Handler, message, notFound, userBody } from "./replies.js";
import type { FakeRepo, FakeRun } from "./state.js";

export const actionHandlers: Record<string, Handler> = {};

function variables(repo: FakeRepo, c: Call) {
  return c.params.environment_name ? repo.environments.get(c.params.environment_name) : repo.variables;
}

function runBody(repo: FakeRepo, r: FakeRun) {
  const html = `https://github.com/${repo.fullName}/actions/runs/${r.id}`;
  return ex("workflow-run", {
    id: r.id,
    name: r.name,
    display_title: r.name,
    run_number: r.id % 1000,
    event: "workflow_dispatch",
    status: r.status,
    conclusion: r.conclusion,
    head_branch: r.branch,
    head_sha: r.sha,
    path: `.github/workflows/${r.workflow.file}`,
    workflow_id: r.workflow.id,
    html_url: html,
    url: `https://api.github.com/repos/${repo.fullName}/actions/runs/${r.id}`,
    created_at: r.created_at,
    updated_at: r.created_at,
    run_attempt: r.attempt,
    run_started_at: r.startedAt ?? r.created_at,
    actor: userBody(r.actor),
  });
}

const variableHandlers: Record<string, Handler> = {
  get: (c, repo) => {
    const v = variables(repo, c)?.get(c.params.name!);
    return v ? { status: 200, body: { name: c.params.name, ...v } } : notFound();
  },
  create: (c, repo) => {
    const denied = denyWrite(repo, c.user, "actions_variables");
    if (denied) return denied;
    const vars = variables(repo, c);
    if (!vars) return notFound();
    const name = String(c.body?.name);
    if (vars.has(name)) return message(409, "Already exists - Variable already exists");
    const now = new Date().toISOString();
    vars.set(name, { value: String(c.body?.value), created_at: now, updated_at: now });
    return { status: 201, body: {} };
  },
  update: (c, repo) => {
    const denied = denyWrite(repo, c.user, "actions_variables");
    if (denied) return denied;
    const vars = variables(repo, c);
    const v = vars?.get(c.params.name!);
    if (!vars || !v) return notFound();
    const name = typeof c.body?.name === "string" ? c.body.name : c.params.name!;
    vars.delete(c.params.name!);
    vars.set(name, {
      ...v,
      value: typeof c.body?.value === "string" ? c.body.value : v.value,
      updated_at: new Date().toISOString(),
    });
    return { status: 204 };
  },
  delete: (c, repo) => {
    const denied = denyWrite(repo, c.user, "actions_variables");
    if (denied) return denied;
    const vars = variables(repo, c);
    if (!vars?.delete(c.params.name!)) return notFound();
    return { status: 204 };
  },
};
for (const [verb, h] of Object.entries(variableHandlers)) {
  actionHandlers[`actions/${verb}-repo-variable`] = h;
  actionHandlers[`actions/${verb}-environment-variable`] = h;
}

function workflowOf(repo: FakeRepo, id: string) {
  return repo.workflows.get(id) ?? [...repo.workflows.values()].find((w) => String(w.id) === id);
}

actionHandlers["actions/create-workflow-dispatch"] = (c, repo) => {
  const denied = denyWrite(repo, c.user, "actions");
  if (denied) return denied;
  const w = workflowOf(repo, c.params.workflow_id!);
  if (!w) return notFound();
  const b = c.body ?? {};
  if ("return_run_details" in b && repo.dispatchMode === "reject-details") {
    return message(422, 'Invalid request.\n\n"return_run_details" is not a permitted key.');
  }
  const ref = String(b.ref);
  const sha = repo.branches.get(ref.replace(/^refs\/heads\//, ""));
  if (!sha) return message(422, `No ref found for: ${ref}`);
  const inputs = (b.inputs ?? {}) as Record<string, string>;
  const unexpected = Object.keys(inputs).filter((k) => !w.inputs.includes(k));
  if (unexpected.length) return message(422, `Unexpected inputs provided: ${JSON.stringify(unexpected)}`);
  const run: FakeRun = {
    id: c.world.nextId(),
    workflow: w,
    name: w.runName ? w.runName(inputs) : w.name,
    branch: ref,
    sha,
    status: "queued",
    conclusion: null,
    pending: [...w.progression],
    inputs,
    created_at: new Date().toISOString(),
    hiddenFromLists: w.listDelay,
    actor: c.user.login,
    attempt: 1,
  };
  repo.runs.unshift(run);
  if (b.return_run_details === true && repo.dispatchMode === "details") {
    const html = `https://github.com/${repo.fullName}/actions/runs/${run.id}`;
    return {
      status: 200,
      body: {
        workflow_run_id: run.id,
        run_url: `https://api.github.com/repos/${repo.fullName}/actions/runs/${run.id}`,
        html_url: html,
      },
    };
  }
  return { status: 204 };
};

actionHandlers["actions/list-workflow-runs"] = (c, repo) => {
  const w = workflowOf(repo, c.params.workflow_id!);
  if (!w) return notFound();
  const event = c.query.get("event");
  const runs = repo.runs.filter((r) => {
    if (r.workflow !== w || (event && event !== "workflow_dispatch")) return false;
    // A new run shows up in lists only after a while.
    return r.hiddenFromLists-- <= 0;
  });
  return {
    status: 200,
    body: { total_count: runs.length, workflow_runs: runs.map((r) => runBody(repo, r)) },
  };
};

actionHandlers["actions/get-workflow-run"] = (c, repo) => {
  const run = repo.runs.find((r) => String(r.id) === c.params.run_id);
  if (!run) return notFound();
  if (run.status !== "completed") {
    const next = run.pending.shift();
    if (next) run.status = next;
    else {
      run.status = "completed";
      run.conclusion = run.workflow.conclusion;
    }
  }
  return { status: 200, body: runBody(repo, run) };
};

/** GET …/actions/runs/{run_id}/pending_deployments: the run's environment while it is `waiting`. */
actionHandlers["actions/get-pending-deployments-for-run"] = (c, repo) => {
  const run = repo.runs.find((r) => String(r.id) === c.params.run_id);
  if (!run) return notFound();
  const env = run.workflow.environment;
  if (run.status !== "waiting" || !env) return { status: 200, body: [] };
  return {
    status: 200,
    body: [
      {
        environment: {
          id: 1,
          name: env.name,
          url: `https://api.github.com/repos/${repo.fullName}/environments/${env.name}`,
        },
        wait_timer: env.waitTimer ?? 0,
        wait_timer_started_at: env.waitTimer ? run.created_at : null,
        current_user_can_approve: env.reviewers.includes(c.user.login),
        reviewers: env.reviewers.map((r) =>
          r.startsWith("team:")
            ? {
                type: "Team",
                reviewer: ex("team", { slug: r.slice(r.lastIndexOf("/") + 1), name: r.slice(5) }),
              }
            : { type: "User", reviewer: userBody(r) },
        ),
      },
    ],
  };
};

/**
 * POST …/actions/runs/{run_id}/rerun: the same run again, as a new attempt (same id). GitHub
 * refuses a run that has not completed (403).
 */
actionHandlers["actions/re-run-workflow"] = (c, repo) => {
  const denied = denyWrite(repo, c.user, "actions");
  if (denied) return denied;
  const run = repo.runs.find((r) => String(r.id) === c.params.run_id);
  if (!run) return notFound();
  if (run.status !== "completed") return message(403, "This workflow is already running");
  run.attempt++;
  run.startedAt = new Date().toISOString();
  run.status = "queued";
  run.conclusion = null;
  run.pending = [...run.workflow.progression];
  run.actor = c.user.login;
  return { status: 201, body: {} };
};
