/**
 * The fake's endpoints: users, projects, members, commits and commit statuses here; variables,
 * pipelines and deployments in routes-ci.ts. Each rule cites the GitLab doc (or source) it follows.
 */
import { badRequest, forbidden as forbiddenAnswer, need, notFound, protectedRefDenied } from "./answers.js";
import { type FakeProject, type FakeStatus, Level, statusJson } from "./model.js";
import {
  deployments,
  pipelineCreate,
  pipelineList,
  pipelineShow,
  pipelineVariables,
  variableRoutes,
} from "./routes-ci.js";
import type { Answer, RouteContext } from "./server.js";

type Handler = (c: RouteContext, p: FakeProject, args: string[]) => Answer;

// Project routes: [method, path below /projects/:id with :params, handler].
const projectRoutes: [string, string, Handler][] = [
  ["GET", "", (c, p) => ({ status: 200, body: projectJson(c, p) })],
  ["GET", "members/all/:user", memberAll],
  ["GET", "repository/commits/:sha", commit],
  ["GET", "repository/commits/:sha/statuses", listStatuses],
  ["GET", "jobs/:id", job],
  ["POST", "jobs/:id/retry", jobRetry],
  ["POST", "statuses/:sha", postStatus],
  ...variableRoutes,
  ["POST", "pipeline", pipelineCreate],
  ["GET", "pipelines", pipelineList],
  ["GET", "pipelines/:id", pipelineShow],
  ["GET", "pipelines/:id/variables", pipelineVariables],
  ["GET", "deployments", deployments],
  ["POST", "issues/:iid/notes", issueNote],
  ["GET", "protected_branches", protectedBranchList],
  ["GET", "protected_branches/:name", protectedBranch],
];

export function route(c: RouteContext): Answer | undefined {
  const s = c.segments;
  if (c.method === "GET" && s.length === 1 && s[0] === "user") {
    return {
      status: 200,
      body: { id: c.user.id, username: c.user.username, name: c.user.username, state: "active" },
    };
  }
  if (c.method === "GET" && s.length === 5 && s[0] === "groups" && s[2] === "members" && s[3] === "all") {
    return groupMemberAll(c, s[1]!, s[4]!);
  }
  if (s[0] !== "projects" || s.length < 2) return undefined;
  const rest = s.slice(2);
  for (const [method, pattern, handler] of projectRoutes) {
    const parts = pattern ? pattern.split("/") : [];
    if (method !== c.method || parts.length !== rest.length) continue;
    if (!parts.every((x, i) => x.startsWith(":") || x === rest[i])) continue;
    // docs.gitlab.com/api/rest/#namespaced-paths: a project is its id or URL-encoded full path;
    // one the user cannot see is "404 Project Not Found", exactly like one that does not exist.
    const p = c.fake.project(s[1]!);
    if (!p || !c.fake.canSee(p, c.user.id)) return notFound("Project");
    return handler(
      c,
      p,
      rest.filter((_, i) => parts[i]!.startsWith(":")),
    );
  }
  return undefined;
}

/** The project; CI settings only for Maintainers and up (ProjectEntity exposes them to admins of the project). */
function projectJson(c: RouteContext, p: FakeProject) {
  const admin = (c.fake.projectLevel(p, c.user.id) ?? 0) >= Level.maintainer;
  return {
    id: p.id,
    path_with_namespace: p.path,
    default_branch: p.defaultBranch,
    visibility: "private",
    ...(admin ? { ci_pipeline_variables_minimum_override_role: p.pipelineVariablesRole ?? "developer" } : {}),
  };
}

/**
 * GET /projects/:id/members/all/:user_id — members.md "Get a member of a group or project,
 * including inherited and invited members": the highest level from the project and its
 * ancestor groups; 404 when the user is none of those.
 */
function memberAll(c: RouteContext, p: FakeProject, [uid]: string[]): Answer {
  const userId = Number(uid);
  const level = c.fake.projectLevel(p, userId);
  if (level === undefined) return { status: 404, body: { message: "404 Not found" } };
  const u = c.fake.users.get(userId);
  return { status: 200, body: { id: userId, username: u?.username, access_level: level, state: "active" } };
}

/** GET /groups/:id/members/all/:user_id — same, for groups; a private group is invisible to non-members. */
function groupMemberAll(c: RouteContext, idOrPath: string, uid: string): Answer {
  const g = /^\d+$/.test(idOrPath)
    ? [...c.fake.groups.values()].find((x) => x.id === Number(idOrPath))
    : c.fake.groups.get(idOrPath);
  if (!g || (!g.public && c.fake.groupLevel(g.path, c.user.id) === undefined)) return notFound("Group");
  const userId = Number(uid);
  if (g.states.get(userId) === "awaiting") {
    return { status: 200, body: { id: userId, access_level: g.members.get(userId), state: "awaiting" } };
  }
  const level = c.fake.groupLevel(g.path, userId);
  if (level === undefined) return { status: 404, body: { message: "404 Not found" } };
  return { status: 200, body: { id: userId, access_level: level, state: "active" } };
}

/** GET /projects/:id/repository/commits/:sha — a sha, branch or tag (commits.md); Reporter to read code. */
function commit(c: RouteContext, p: FakeProject, [ref]: string[]): Answer {
  const denied = need(c, p, Level.reporter);
  if (denied) return denied;
  const sha = p.refs.get(ref!) ?? [...p.refs.values()].find((x) => x === ref);
  return sha ? { status: 200, body: { id: sha, short_id: sha.slice(0, 8) } } : notFound("Commit");
}

/**
 * GET …/commits/:sha/statuses (commits.md "List the statuses of a commit"): `ref` and `name`
 * filter; without `ref` there is no ref filter at all (lib/api/commit_statuses.rb:
 * `statuses.where(ref: params[:ref]) if params[:ref].present?`, whatever the page says about the
 * default branch); without `all` only the latest status per name and ref is listed. Jobs are
 * statuses too. A guest gets 403 (spec/requests/api/commit_statuses_spec.rb).
 */
function listStatuses(c: RouteContext, p: FakeProject, [sha]: string[]): Answer {
  const denied = need(c, p, Level.reporter);
  if (denied) return denied;
  const ref = c.query.get("ref");
  const name = c.query.get("name");
  let list = p.statuses.filter((s) => s.sha === sha && (!ref || s.ref === ref) && (!name || s.name === name));
  if (c.query.get("all") !== "true") {
    const latest = new Map<string, FakeStatus>();
    for (const s of list) {
      const key = `${s.name}\u0000${s.ref}`;
      if ((latest.get(key)?.id ?? 0) < s.id) latest.set(key, s);
    }
    list = [...latest.values()];
  }
  return { status: 200, body: list.map((s) => statusJson(s, c.fake.users)) };
}

/**
 * GET /projects/:id/jobs/:job_id (jobs.md "Get a single job"; Reporter): jobs only. An external
 * status shares the id space (both are rows of ci_builds) but is not a job: 404.
 */
function job(c: RouteContext, p: FakeProject, [id]: string[]): Answer {
  const denied = need(c, p, Level.reporter);
  if (denied) return denied;
  const s = p.statuses.find((x) => x.id === Number(id) && x.job);
  if (!s) return { status: 404, body: { message: "404 Not found" } };
  // A running job moves one step along its script per read; its deployment follows it.
  const next = c.fake.jobScripts.get(s.id)?.shift();
  if (next) {
    s.status = next;
    const d = p.deployments.find((x) => x.id + 1000 === s.id);
    if (d && ["success", "failed", "canceled"].includes(next)) d.status = next as typeof d.status;
  }
  return { status: 200, body: jobJson(c, p, s) };
}

function jobJson(c: RouteContext, p: FakeProject, s: FakeStatus) {
  const pipeline = p.pipelines.find((x) => x.sha === s.sha && x.ref === s.ref);
  return {
    id: s.id,
    name: s.name,
    ref: s.ref,
    status: s.status,
    stage: "deploy",
    web_url: `${c.fake.url}/${p.path}/-/jobs/${s.id}`,
    pipeline: pipeline ? { id: pipeline.id } : null,
  };
}

/**
 * POST /projects/:id/jobs/:job_id/retry (jobs.md "Retry a job"; Developer): a finished job runs
 * again as a new job; a deployment job makes a new deployment. A job still running is 403.
 */
function jobRetry(c: RouteContext, p: FakeProject, [id]: string[]): Answer {
  const denied = need(c, p, Level.developer);
  if (denied) return denied;
  const old = p.deployments.find((d) => d.id + 1000 === Number(id));
  const oldJob = p.statuses.find((x) => x.id === Number(id) && x.job);
  if (!old && !oldJob) return { status: 404, body: { message: "404 Not found" } };
  if (old && !["success", "failed", "canceled"].includes(old.status)) return forbiddenAnswer;
  const pl = old ? p.pipelines.find((x) => x.id === old.pipelineId) : undefined;
  const deployment = old
    ? { ...old, id: c.fake.id(), status: "running" as const, finishedAt: new Date().toISOString() }
    : undefined;
  if (deployment) p.deployments.push(deployment);
  const job: FakeStatus = {
    id: deployment ? deployment.id + 1000 : c.fake.id(),
    sha: pl?.sha ?? oldJob?.sha ?? p.refs.get(p.defaultBranch)!,
    ref: pl?.ref ?? oldJob?.ref ?? p.defaultBranch,
    name: oldJob?.name ?? "deploy",
    status: "pending",
    description: null,
    target_url: null,
    userId: c.user.id,
    job: true,
  };
  p.statuses.push(job);
  c.fake.jobScripts.set(job.id, [...c.fake.pipelineScript]);
  return { status: 201, body: jobJson(c, p, job) };
}
const states = ["pending", "running", "success", "failed", "canceled", "skipped"];
// The state machine events POST /statuses fires (app/services/ci/create_commit_status_service.rb,
// apply_job_state!) and the states each may leave (app/models/commit_status.rb).
const transitions: Record<string, { event: string; from: string[]; to: string }> = {
  pending: { event: "enqueue", from: ["created", "skipped"], to: "pending" },
  running: { event: "run", from: ["pending"], to: "running" },
  success: { event: "success", from: ["created", "pending", "running"], to: "success" },
  failed: { event: "drop", from: ["created", "pending", "running"], to: "failed" },
  canceled: { event: "cancel", from: ["created", "pending", "running"], to: "canceled" },
  skipped: { event: "skip", from: ["created", "pending"], to: "skipped" },
};

/**
 * POST /projects/:id/statuses/:sha (commits.md "Set the pipeline status of a commit"; Developer,
 * a Reporter gets 403). GitLab reuses this user's running or pending status with the same name
 * and ref, else creates one (create_commit_status_service.rb, external_commit_status_scope);
 * an impossible transition is 400 "Cannot transition status via :run from :running".
 */
function postStatus(c: RouteContext, p: FakeProject, [sha]: string[]): Answer {
  const denied = need(c, p, Level.developer);
  if (denied) return denied;
  const b = c.body;
  if (typeof b.state !== "string" || !states.includes(b.state))
    return { status: 400, body: { error: "state does not have a valid value" } };
  if (![...p.refs.values()].includes(sha!)) return notFound("Commit");
  const name = String(b.name ?? b.context ?? "default");
  for (const [field, value] of [
    ["name", name],
    ["description", b.description],
    ["target_url", b.target_url],
  ] as const) {
    if (typeof value === "string" && [...value].length > 255) {
      c.violation(`${field} longer than 255 characters`);
      return badRequest({ [field]: ["is too long (maximum is 255 characters)"] });
    }
  }
  if (b.target_url !== undefined && !/^https?:\/\/\S+$/.test(String(b.target_url))) {
    return badRequest({ target_url: ["must be a valid URL"] });
  }
  // Without `ref`: the newest pipeline's ref for the commit, else a branch containing it
  // (create_commit_status_service.rb, `ref`); here, a status's ref stands for its pipeline.
  const newest = p.statuses.filter((x) => x.sha === sha).sort((a, b2) => b2.id - a.id)[0];
  const ref =
    typeof b.ref === "string" ? b.ref : (newest?.ref ?? [...p.refs].find(([, v]) => v === sha)?.[0]);
  if (!ref) return notFound("References for commit");
  const blocked = protectedRefDenied(c, p, ref);
  if (blocked) return blocked;
  // A job of that pipeline already has the name: the external status is invalid.
  if (p.statuses.some((x) => x.job && x.sha === sha && x.ref === ref && x.name === name)) {
    return badRequest({ name: ["has already been taken"] });
  }
  let s = p.statuses.find(
    (x) =>
      x.sha === sha &&
      x.ref === ref &&
      x.name === name &&
      x.userId === c.user.id &&
      !x.job &&
      ["running", "pending"].includes(x.status),
  );
  const fresh = !s;
  s ??= {
    id: c.fake.id(),
    sha: sha!,
    ref,
    name,
    status: "created",
    description: null,
    target_url: null,
    userId: c.user.id,
  };
  const t = transitions[b.state]!;
  if (b.state === "running" && s.status === "created") s.status = "pending"; // `job.enqueue` before `run!`
  if (!t.from.includes(s.status)) {
    return badRequest(
      `Cannot transition status via :${t.event} from :${s.status} (Reason(s): Status cannot transition via "${t.event}")`,
    );
  }
  s.status = t.to;
  if (typeof b.description === "string") s.description = b.description;
  if (typeof b.target_url === "string") s.target_url = b.target_url;
  if (fresh) p.statuses.push(s);
  return { status: 201, body: statusJson(s, c.fake.users) };
}

/** POST /projects/:id/issues/:issue_iid/notes (notes.md "Create new issue note"): `body` required. */
function issueNote(c: RouteContext, p: FakeProject, [iid]: string[]): Answer {
  if (!p.issues.has(Number(iid))) return notFound("Issue");
  if (typeof c.body.body !== "string" || c.body.body === "")
    return { status: 400, body: { error: "body is missing" } };
  if ([...c.body.body].length > 1_000_000)
    return badRequest({ note: ["is too long (maximum is 1000000 characters)"] });
  p.notes.push({ issue: Number(iid), body: c.body.body, userId: c.user.id });
  return { status: 201, body: { id: c.fake.id(), body: c.body.body, noteable_iid: Number(iid) } };
}

/**
 * GET /projects/:id/protected_branches/:name — protected_branches.md "Get a single protected
 * branch or wildcard protected branch": 404 "404 Not found" when the branch is not protected.
 * Reading protected branches needs more than Reporter (verify: we require Developer here).
 */
function protectedBranch(c: RouteContext, p: FakeProject, [name]: string[]): Answer {
  const denied = need(c, p, Level.developer);
  if (denied) return denied;
  // The rule by its own name: a branch matched only by a wildcard rule is a 404 here.
  const pb = p.protectedBranches.get(name!);
  if (!pb) return { status: 404, body: { message: "404 Not found" } };
  return { status: 200, body: protectedJson(name!, pb) };
}

/** GET /projects/:id/protected_branches (protected_branches.md "List protected branches"). */
function protectedBranchList(c: RouteContext, p: FakeProject): Answer {
  const denied = need(c, p, Level.developer);
  if (denied) return denied;
  return { status: 200, body: [...p.protectedBranches].map(([name, pb]) => protectedJson(name, pb)) };
}

function protectedJson(name: string, pb: { allow_force_push: boolean; merge_access_level?: number }) {
  const l = pb.merge_access_level ?? Level.maintainer;
  const level = [
    {
      id: 1,
      access_level: l,
      access_level_description: l >= Level.maintainer ? "Maintainers" : "Developers + Maintainers",
    },
  ];
  return {
    id: 1,
    name,
    push_access_levels: level,
    merge_access_levels: level,
    unprotect_access_levels: [],
    allow_force_push: pb.allow_force_push,
    code_owner_approval_required: false,
  };
}
