/**
 * The fake's CI endpoints: project variables, pipelines, deployments, each following its page of
 * docs.gitlab.com/api (cited per handler).
 */

import { badRequest, need, notFound, protectedRefDenied } from "./answers.js";
import { type FakeProject, type FakeVariable, Level, variable, variableJson } from "./model.js";
import type { Answer, RouteContext } from "./server.js";

type Handler = (c: RouteContext, p: FakeProject, args: string[]) => Answer;

/** Grape merges query and body parameters, so `filter` may come in either; optout uses the query. */
function scopeFilter(c: RouteContext): string | undefined {
  const fromBody = (c.body.filter as { environment_scope?: unknown } | undefined)?.environment_scope;
  return typeof fromBody === "string" ? fromBody : (c.query.get("filter[environment_scope]") ?? undefined);
}

/**
 * One variable by key (project_level_variables.md "The filter parameter"): with several scopes
 * and no filter, GitLab answers 409 "There are multiple variables with provided parameters.
 * Please use 'filter[environment_scope]'"; none → 404 "404 Variable Not Found".
 */
function findVariable(c: RouteContext, p: FakeProject, key: string): FakeVariable | Answer {
  const scope = scopeFilter(c);
  if (scope === undefined) c.violation("variable request without filter[environment_scope]");
  const found = p.variables.filter(
    (v) => v.key === key && (scope === undefined || v.environment_scope === scope),
  );
  if (found.length > 1) {
    return {
      status: 409,
      body: {
        message:
          "There are multiple variables with provided parameters. Please use 'filter[environment_scope]'",
      },
    };
  }
  return found[0] ?? notFound("Variable");
}

// Masked values: at least 8 characters from the Base64 alphabet plus @:.~ (variables/_index.md#mask-a-cicd-variable).
const maskable = /^[A-Za-z0-9+/=@:.~_-]{8,}$/;

function applyAttributes(c: RouteContext, v: FakeVariable): Answer | undefined {
  const b = c.body;
  for (const flag of ["protected", "masked", "raw"] as const)
    if (typeof b[flag] === "boolean") v[flag] = b[flag];
  if (b.variable_type !== undefined) {
    if (b.variable_type !== "env_var" && b.variable_type !== "file")
      return { status: 400, body: { error: "variable_type does not have a valid value" } };
    v.variable_type = b.variable_type;
  }
  if (b.description !== undefined) v.description = b.description === null ? null : String(b.description);
  if (typeof b.environment_scope === "string") v.environment_scope = b.environment_scope;
  if (v.masked && !maskable.test(v.value)) return badRequest({ value: ["is invalid"] });
  return undefined;
}

/** Every variables endpoint needs Maintainer (user/permissions.md: "Manage CI/CD variables"). */
const maintainer =
  (h: Handler): Handler =>
  (c, p, a) =>
    need(c, p, Level.maintainer) ?? h(c, p, a);

export const variableRoutes: [string, string, Handler][] = [
  ["GET", "variables", maintainer((_c, p) => ({ status: 200, body: p.variables.map(variableJson) }))],
  [
    "GET",
    "variables/:key",
    maintainer((c, p, [key]) => {
      const v = findVariable(c, p, key!);
      return "status" in v ? v : { status: 200, body: variableJson(v) };
    }),
  ],
  [
    "POST",
    "variables",
    maintainer((c, p) => {
      const b = c.body;
      if (typeof b.key !== "string" || !/^[A-Za-z0-9_]{1,255}$/.test(b.key)) {
        return badRequest({ key: ["can contain only letters, digits and '_'."] });
      }
      if (typeof b.value !== "string") return { status: 400, body: { error: "value is missing" } };
      if (typeof b.environment_scope !== "string") c.violation("variable created without environment_scope");
      const scope = typeof b.environment_scope === "string" ? b.environment_scope : "*";
      if (p.variables.some((v) => v.key === b.key && v.environment_scope === scope)) {
        return badRequest({ key: [`(${b.key}) has already been taken`] });
      }
      const v = variable(b.key, b.value, { environment_scope: scope });
      const bad = applyAttributes(c, v);
      if (bad) return bad;
      p.variables.push(v);
      return { status: 201, body: variableJson(v) };
    }),
  ],
  [
    "PUT",
    "variables/:key",
    maintainer((c, p, [key]) => {
      const found = findVariable(c, p, key!);
      if ("status" in found) return found;
      if (typeof c.body.value !== "string") return { status: 400, body: { error: "value is missing" } };
      const next = { ...found, value: c.body.value };
      const bad = applyAttributes(c, next);
      if (bad) return bad;
      Object.assign(found, next);
      return { status: 200, body: variableJson(found) };
    }),
  ],
  [
    "DELETE",
    "variables/:key",
    maintainer((c, p, [key]) => {
      const found = findVariable(c, p, key!);
      if ("status" in found) return found;
      p.variables = p.variables.filter((v) => v !== found);
      return { status: 204 };
    }),
  ],
];

/**
 * POST /projects/:id/pipeline (pipelines.md "Create a new pipeline"; Developer): `ref` required
 * and must exist ("Reference not found"); `variables` is an array of {key, value, variable_type}.
 */
export const pipelineCreate: Handler = (c, p) => {
  const denied = need(c, p, Level.developer);
  if (denied) return denied;
  const b = c.body;
  if (typeof b.ref !== "string") return { status: 400, body: { error: "ref is missing" } };
  const sha = p.refs.get(b.ref);
  if (!sha) return badRequest({ base: ["Reference not found"] });
  const blocked = protectedRefDenied(c, p, b.ref);
  if (blocked) return blocked;
  const vars = (b.variables ?? []) as Record<string, unknown>[];
  if (!Array.isArray(vars)) return { status: 400, body: { error: "variables is invalid" } };
  // ci/variables/_index.md "Restrict pipeline variables": below the minimum role (or with
  // no_one_allowed), any variable refuses the whole pipeline; nothing is created.
  const minimum = p.pipelineVariablesRole ?? "developer";
  const allowed = minimum !== "no_one_allowed" && (c.fake.projectLevel(p, c.user.id) ?? 0) >= Level[minimum];
  if (vars.length > 0 && !allowed) {
    return badRequest({ base: ["Insufficient permissions to set pipeline variables"] });
  }
  const inputs = inputsOf(p, b.inputs);
  if ("status" in inputs) return inputs;
  for (const v of vars) {
    const extra = Object.keys(v).filter((k) => !["key", "value", "variable_type"].includes(k));
    if (extra.length || typeof v.key !== "string" || typeof v.value !== "string") {
      c.violation(`pipeline variable not {key, value, variable_type}: ${JSON.stringify(v)}`);
      return { status: 400, body: { error: "variables is invalid" } };
    }
  }
  const variables = vars.map((v) => ({
    key: String(v.key),
    value: String(v.value),
    variable_type: String(v.variable_type ?? "env_var"),
  }));
  const pl = {
    id: c.fake.id(),
    ref: b.ref,
    sha,
    status: "created",
    script: [...c.fake.pipelineScript],
    variables,
    inputs: inputs.values,
    userId: c.user.id,
    source: "api",
    updatedAt: new Date().toISOString(),
    name: p.workflowName
      ? p.workflowName({ ...Object.fromEntries(variables.map((v) => [v.key, v.value])), ...inputs.values })
      : null,
  };
  p.pipelines.push(pl);
  return { status: 201, body: pipelineJson(c, p, pl) };
};

/**
 * Pipeline `inputs` (pipelines.md "Create a new pipeline", GitLab 17.11+; ci/inputs): each must be
 * declared in spec:inputs, every input without a default must be given.
 */
function inputsOf(p: FakeProject, given: unknown): { values: Record<string, string> } | Answer {
  if (given === undefined) return { values: {} };
  if (typeof given !== "object" || given === null || Array.isArray(given))
    return { status: 400, body: { error: "inputs is invalid" } };
  const spec = p.specInputs ?? {};
  const unknown = Object.keys(given).filter((k) => !(k in spec));
  if (unknown.length) return badRequest({ base: [`unknown input arguments: ${unknown.join(", ")}`] });
  const values: Record<string, string> = {};
  for (const [name, def] of Object.entries(spec)) {
    const v = (given as Record<string, unknown>)[name];
    if (v === undefined && def === null)
      return badRequest({ base: [`\`${name}\` input: required value has not been provided`] });
    values[name] = v === undefined ? (def ?? "") : String(v);
  }
  return { values };
}

function pipelineJson(c: RouteContext, p: FakeProject, pl: FakeProject["pipelines"][number]) {
  return {
    id: pl.id,
    iid: pl.id,
    project_id: p.id,
    sha: pl.sha,
    ref: pl.ref,
    status: pl.status,
    source: pl.source ?? "push",
    name: pl.name ?? null,
    updated_at: pl.updatedAt ?? "2026-01-01T00:00:00Z",
    web_url: `${c.fake.url}/${p.path}/-/pipelines/${pl.id}`,
  };
}

/**
 * GET /projects/:id/pipelines (pipelines.md "List project pipelines"; Reporter): filters ref,
 * source, username, name, updated_after/before (ISO 8601); order_by id|status|ref|updated_at|
 * user_id; sort asc|desc; paginated.
 */
export const pipelineList: Handler = (c, p) => {
  const denied = need(c, p, Level.reporter);
  if (denied) return denied;
  const q = c.query;
  const orderBy = q.get("order_by") ?? "id";
  if (!["id", "status", "ref", "updated_at", "user_id"].includes(orderBy))
    return { status: 400, body: { error: "order_by does not have a valid value" } };
  if (!["asc", "desc"].includes(q.get("sort") ?? "desc"))
    return { status: 400, body: { error: "sort does not have a valid value" } };
  const after = q.get("updated_after");
  if (after !== null && Number.isNaN(Date.parse(after)))
    return { status: 400, body: { error: "updated_after is invalid" } };
  let list = p.pipelines.filter(
    (pl) =>
      (!q.get("ref") || pl.ref === q.get("ref")) &&
      (!q.get("source") || (pl.source ?? "push") === q.get("source")) &&
      (!q.get("name") || pl.name === q.get("name")) &&
      (!q.get("username") || c.fake.users.get(pl.userId)?.username === q.get("username")) &&
      (after === null || Date.parse(pl.updatedAt ?? "2026-01-01T00:00:00Z") >= Date.parse(after)),
  );
  list = [...list].sort((a, b) => a.id - b.id);
  if ((q.get("sort") ?? "desc") === "desc") list.reverse();
  const per = Number(q.get("per_page") ?? 20);
  const page = Number(q.get("page") ?? 1);
  return { status: 200, body: list.slice((page - 1) * per, page * per).map((pl) => pipelineJson(c, p, pl)) };
};

/** GET /projects/:id/pipelines/:id (Reporter); the pipeline moves one step along its script per read. */
export const pipelineShow: Handler = (c, p, [id]) => {
  const denied = need(c, p, Level.reporter);
  if (denied) return denied;
  const pl = p.pipelines.find((x) => x.id === Number(id));
  if (!pl) return { status: 404, body: { message: "404 Not found" } };
  const next = pl.script.shift();
  if (next) pl.status = next;
  return { status: 200, body: pipelineJson(c, p, pl) };
};

/** GET /projects/:id/pipelines/:id/variables (pipelines.md "Get variables of a pipeline"; Developer). */
export const pipelineVariables: Handler = (c, p, [id]) => {
  const denied = need(c, p, Level.developer);
  if (denied) return denied;
  const pl = p.pipelines.find((x) => x.id === Number(id));
  return pl ? { status: 200, body: pl.variables } : { status: 404, body: { message: "404 Not found" } };
};

/**
 * GET /projects/:id/deployments (deployments.md "List project deployments"; Reporter). The
 * finder's rules (app/finders/deployments_finder.rb, `validate!`, answered 400 by
 * lib/api/deployments.rb): `finished_at` sorting must be paired with a finished_after/before
 * filter, and that filter needs `status=success`; order_by and sort take only known values.
 */
export const deployments: Handler = (c, p) => {
  const denied = need(c, p, Level.reporter);
  if (denied) return denied;
  const q = c.query;
  const orderBy = q.get("order_by") ?? "id";
  if (!["id", "iid", "created_at", "updated_at", "ref", "finished_at"].includes(orderBy)) {
    return { status: 400, body: { error: "order_by does not have a valid value" } };
  }
  if (!["asc", "desc"].includes(q.get("sort") ?? "asc"))
    return { status: 400, body: { error: "sort does not have a valid value" } };
  const finishedFilter = q.has("finished_after") || q.has("finished_before");
  if (finishedFilter !== (orderBy === "finished_at")) {
    c.violation("finished_at sorting without a finished_at filter (or the other way round)");
    return badRequest("`finished_at` filter and `finished_at` sorting must be paired");
  }
  if (finishedFilter && q.get("status") !== "success") {
    return badRequest("`finished_at` filter must be combined with `success` status filter.");
  }
  let list = p.deployments.filter(
    (d) =>
      (!q.get("environment") || d.environment === q.get("environment")) &&
      (!q.get("status") || d.status === q.get("status")),
  );
  if (orderBy === "finished_at") list.sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
  else list.sort((a, b) => a.id - b.id);
  if (q.get("sort") === "desc") list.reverse();
  const per = Number(q.get("per_page") ?? 20);
  const page = Number(q.get("page") ?? 1);
  list = list.slice((page - 1) * per, page * per);
  return {
    status: 200,
    body: list.map((d) => ({
      id: d.id,
      iid: d.id,
      status: d.status,
      created_at: d.finishedAt,
      environment: { name: d.environment },
      deployable: { id: d.id + 1000, status: d.status, pipeline: { id: d.pipelineId } },
    })),
  };
};
