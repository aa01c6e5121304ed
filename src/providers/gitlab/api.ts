/**
 * The GitLab endpoints optout uses, one method each, answers validated (map.ts). Paths and the
 * permission each needs are from docs.gitlab.com/api (commits, project_level_variables, members,
 * pipelines, deployments); the 403 messages name the role GitLab wants.
 */
import type { ProviderContext } from "../../core/ports.js";
import { type ClientOptions, GitLabClient } from "./client.js";
import type { HttpFailure } from "./errors.js";
import type { Http, Method, RequestOptions } from "./http.js";
import {
  type CommitStatus,
  commitSchema,
  deploymentsSchema,
  type GitLabVariable,
  type Job,
  jobSchema,
  memberSchema,
  type Pipeline,
  type Project,
  parse,
  pipelineSchema,
  pipelineVariablesSchema,
  projectSchema,
  protectedBranchSchema,
  statusSchema,
  userSchema,
  variableSchema,
  whoSchema,
} from "./map.js";

const notFound = (f: HttpFailure) => f.status === 404;
/** A 404 about the variable, not about the project (GitLab says "404 Variable Not Found"). */
const variableNotFound = (f: HttpFailure) => f.status === 404 && !/project not found/i.test(f.description);
const variablesForbidden = "Maintainer role is needed to change CI/CD variables";
const levelNames: Record<number, string> = { 30: "Developer", 40: "Maintainer", 50: "Owner" };
const enc = encodeURIComponent;
/** One GraphQL request for who is acting and their level on the project (see whoAndLevel). */
const whoQuery =
  "query optoutWho($project: ID!) { currentUser { id username } project(fullPath: $project) { maxAccessLevel { integerValue } } }";

/** One request's answer body (paths below /api/v4, written as GitLab documents them). */
function send(method: Method, path: string, o: RequestOptions = {}) {
  return (http: Http) => http.request(method, path, o).then((a) => a.body);
}

export interface VariableAttributes {
  protected?: boolean | undefined;
  masked?: boolean | undefined;
  raw?: boolean | undefined;
  variable_type?: "env_var" | "file" | undefined;
  description?: string | null | undefined;
}

export class GitLabApi {
  readonly client: GitLabClient;
  /** The project as GitLab paths want it: numeric id, or the full path URL-encoded (acme%2Fshop). */
  readonly projectRef: string;
  private protectedRules:
    | Promise<{ name: string; allow_force_push?: boolean | undefined }[] | undefined>
    | undefined;
  private projectInfo: Promise<Project> | undefined;
  private projectKnown: Project | undefined;

  constructor(
    readonly ctx: ProviderContext,
    options: ClientOptions = {},
  ) {
    this.client = new GitLabClient(ctx, options);
    this.projectRef = /^\d+$/.test(ctx.repo) ? ctx.repo : encodeURIComponent(ctx.repo);
  }

  get host(): string {
    return this.client.host;
  }

  /** "METHOD /path {body}" exactly as it would be sent, for plans and --dry-run. */
  call(method: string, path: string, body?: Record<string, unknown>): string {
    return `${method} /projects/${this.projectRef}${path}${body ? ` ${JSON.stringify(body)}` : ""}`;
  }

  async currentUser(): Promise<{ id: number; username: string }> {
    const body = await this.client.must(
      {
        what: "read who the token belongs to (GET /user)",
        forbidden: "the token may not read /user (it needs the api or read_user scope)",
      },
      send("GET", "user"),
    );
    return parse(userSchema, body, "GET /user");
  }

  /**
   * Who the token belongs to and their access level on the project, in one request: GraphQL's
   * `currentUser` and `Project.maxAccessLevel` (GitLab 16.9 and later; the highest level the user
   * has from the project, its groups and the groups it is shared with, as members/all gives it;
   * 0 when none). Undefined when GraphQL does not answer that: a project named by its number
   * (GraphQL finds projects by path), an older GitLab (the field does not exist), a token
   * GraphQL does not take (a job token); the caller then asks the REST endpoints.
   * https://docs.gitlab.com/api/graphql/reference/#project
   */
  async whoAndLevel(): Promise<
    { user: { id: number; username: string }; level: number | undefined } | undefined
  > {
    // GraphQL finds projects by path, and takes no job token (without a token, REST says so).
    const scheme = await this.client.tokenScheme();
    if (/^\d+$/.test(this.ctx.repo) || scheme === null || scheme === "job") return undefined;
    const body = await this.client.call(
      {
        what: "read who the token belongs to and their role (POST /api/graphql)",
        // GitLab answered, but not this (4xx): the REST endpoints say why, in their words. A rate
        // limit is no such answer: REST would be limited all the same.
        absent: (f) => f.status >= 400 && f.status < 500 && f.status !== 429,
      },
      send("POST", "/api/graphql", { body: { query: whoQuery, variables: { project: this.ctx.repo } } }),
    );
    const r = whoSchema.safeParse(body);
    if (!r.success || r.data.errors?.length || !r.data.data?.currentUser) return undefined;
    const { currentUser, project } = r.data.data;
    const id = Number(/\/(\d+)$/.exec(currentUser.id)?.[1]);
    if (!Number.isSafeInteger(id)) return undefined;
    const level = project?.maxAccessLevel.integerValue ?? 0;
    return { user: { id, username: currentUser.username }, level: level >= 10 ? level : undefined };
  }

  /**
   * Why a write on `ref` was refused, when the role is not the reason: a Developer (or more) is
   * refused only by a protected branch or tag. Asked only after a 403, so it costs nothing
   * otherwise.
   */
  private protectedRefRefusal(ref: string, what: string): () => Promise<string | undefined> {
    return async () => {
      const me = await this.currentUser();
      const level = await this.projectAccess(me.id);
      const role = level === undefined ? undefined : levelNames[Math.min(50, Math.floor(level / 10) * 10)];
      if (!role) return undefined;
      return `you are ${role === "Owner" ? "an" : "a"} ${role} on ${this.ctx.repo}, but ${ref} is protected: only those allowed to push or merge to it may ${what}`;
    };
  }

  /** Path, id and default branch (cached: asked at most once per command). */
  project(): Promise<Project> {
    this.projectInfo ??= this.client
      .must({ what: "read the project" }, send("GET", `projects/${this.projectRef}`))
      .then((body) => {
        this.projectKnown = parse(projectSchema, body, "GET /projects/:id");
        return this.projectKnown;
      });
    return this.projectInfo;
  }

  /** The project, if this command has read it already (no request). */
  get projectIfRead(): Project | undefined {
    return this.projectKnown;
  }

  /** Access level including inherited membership; undefined when not a member (404). */
  async projectAccess(userId: number): Promise<number | undefined> {
    const body = await this.client.call(
      { what: "read project members", absent: notFound },
      send("GET", `projects/${this.projectRef}/members/all/${userId}`),
    );
    return body === undefined
      ? undefined
      : activeLevel(parse(memberSchema, body, "GET members/all/:user_id"));
  }

  /**
   * Group membership including inherited: undefined when not a member ("404 Not found"), null
   * when GitLab does not show the group at all ("404 Group Not Found": no such group, or a
   * private one the user is not in).
   */
  async groupAccess(groupPath: string, userId: number): Promise<number | undefined | null> {
    let unknownGroup = false;
    const body = await this.client.call(
      {
        what: `read members of group ${groupPath}`,
        absent: (f) => {
          unknownGroup = f.status === 404 && /group not found/i.test(f.description);
          return f.status === 404;
        },
      },
      send("GET", `groups/${enc(groupPath)}/members/all/${userId}`),
    );
    if (body === undefined) return unknownGroup ? null : undefined;
    return activeLevel(parse(memberSchema, body, "GET groups members/all"));
  }

  /**
   * The protected branch rules, wildcards included (protected_branches.md "List protected
   * branches"); undefined when the token may not read them (403). Asking for one branch by name
   * would miss a branch that only a wildcard rule (`optout/*`) protects.
   */
  protectedBranches(): Promise<{ name: string; allow_force_push?: boolean | undefined }[] | undefined> {
    // Asked once per command: doctor checks the audit and the default branch against it.
    this.protectedRules ??= this.client
      .call(
        { what: "read protected branches", absent: (f) => f.status === 403 },
        send("GET", `projects/${this.projectRef}/protected_branches`, { query: { per_page: 100 } }),
      )
      .then((body) =>
        body === undefined ? undefined : parse(protectedBranchSchema.array(), body, "GET protected_branches"),
      );
    return this.protectedRules;
  }

  async commitSha(ref: string): Promise<string> {
    const body = await this.client.must(
      { what: `resolve ${ref} to a commit`, forbidden: "Reporter role is needed to read commits" },
      send("GET", `projects/${this.projectRef}/repository/commits/${enc(ref)}`),
    );
    return parse(commitSchema, body, "GET repository/commits/:sha").id;
  }

  /**
   * The latest status named `name` on `sha` (for `ref`, when given), or undefined. Without `ref`
   * GitLab filters on no ref at all (lib/api/commit_statuses.rb), so the newest of any ref wins.
   */
  async latestStatus(sha: string, ref: string | null, name: string): Promise<CommitStatus | undefined> {
    const body = await this.client.must(
      { what: "read commit statuses", forbidden: "Reporter role is needed to read commit statuses" },
      // Without `all`, GitLab lists only the latest status per name: one short page.
      send("GET", `projects/${this.projectRef}/repository/commits/${sha}/statuses`, {
        query: { ...(ref ? { ref } : {}), name },
      }),
    );
    const list = parse(statusSchema.array(), body, "GET repository/commits/:sha/statuses");
    return list.filter((s) => s.name === name).sort((a, b) => b.id - a.id)[0];
  }

  /**
   * Whether a commit status is a job GitLab runs itself: jobs and external statuses share ids,
   * and the jobs endpoint knows only jobs (404 for an external status).
   */
  async isJob(id: number): Promise<boolean> {
    const r = await this.client.call(
      { what: `read job ${id}`, absent: (f) => f.status === 404 || f.status === 403 },
      send("GET", `projects/${this.projectRef}/jobs/${id}`),
    );
    return r !== undefined;
  }

  /** Posts a status; without `ref` GitLab picks the pipeline (the newest for the commit). */
  async postStatus(
    sha: string,
    s: {
      state: string;
      name: string;
      ref: string | null;
      description: string | null;
      targetUrl: string | null;
    },
  ): Promise<CommitStatus> {
    const body = await this.client.must(
      {
        what: `set commit status ${s.name}`,
        forbidden: "Developer role is needed to set commit statuses",
        write: true,
        ...(s.ref ? { explainForbidden: this.protectedRefRefusal(s.ref, "set commit statuses there") } : {}),
      },
      send("POST", `projects/${this.projectRef}/statuses/${sha}`, {
        body: {
          state: s.state,
          name: s.name,
          ...(s.ref !== null ? { ref: s.ref } : {}),
          ...(s.description !== null ? { description: s.description } : {}),
          ...(s.targetUrl !== null ? { target_url: s.targetUrl } : {}),
        },
      }),
    );
    return parse(statusSchema, body, "POST statuses/:sha");
  }

  // `filter[environment_scope]` goes in the query on GET, PUT and DELETE: GitLab answers 409
  // when a key exists in several scopes and the request does not say which.
  private variablePath(key: string): string {
    return `projects/${this.projectRef}/variables/${enc(key)}`;
  }

  async variable(key: string, scope: string): Promise<GitLabVariable | undefined> {
    const r = await this.client.call(
      {
        what: `read CI/CD variable ${key}`,
        forbidden: "Maintainer role is needed to read CI/CD variables",
        absent: variableNotFound,
      },
      send("GET", this.variablePath(key), { query: { filter: { environment_scope: scope } } }),
    );
    return r === undefined ? undefined : parse(variableSchema, r, "GET variables/:key");
  }

  async createVariable(
    key: string,
    scope: string,
    value: string,
    attrs: VariableAttributes,
  ): Promise<GitLabVariable> {
    const body = await this.client.must(
      { what: `create CI/CD variable ${key}`, forbidden: variablesForbidden, write: true },
      send("POST", `projects/${this.projectRef}/variables`, {
        body: { key, value, environment_scope: scope, ...definedAttributes(attrs) },
      }),
    );
    return parse(variableSchema, body, "POST variables");
  }

  async updateVariable(
    key: string,
    scope: string,
    value: string,
    attrs: VariableAttributes,
  ): Promise<GitLabVariable> {
    const body = await this.client.must(
      { what: `change CI/CD variable ${key}`, forbidden: variablesForbidden, write: true },
      send("PUT", this.variablePath(key), {
        query: { filter: { environment_scope: scope } },
        body: { value, ...definedAttributes(attrs) },
      }),
    );
    return parse(variableSchema, body, "PUT variables/:key");
  }

  async deleteVariable(key: string, scope: string): Promise<void> {
    await this.client.call(
      {
        what: `delete CI/CD variable ${key}`,
        forbidden: variablesForbidden,
        absent: variableNotFound,
        write: true,
      },
      send("DELETE", this.variablePath(key), { query: { filter: { environment_scope: scope } } }),
    );
  }

  /**
   * Creates a pipeline told what to do by `variables`, or by `inputs` (spec:inputs; GitLab
   * 17.11+) where the project forbids pipeline variables.
   */
  async createPipeline(
    ref: string,
    args: { variables: { key: string; value: string }[] } | { inputs: Record<string, string> },
  ): Promise<Pipeline> {
    const body = await this.client.must(
      {
        what: `create a pipeline on ${ref}`,
        forbidden: `Developer role is needed to create a pipeline on ${ref}`,
        explainForbidden: this.protectedRefRefusal(ref, "run pipelines there"),
        // A repeated POST after a lost answer would deploy twice.
        idempotent: false,
        write: true,
      },
      send("POST", `projects/${this.projectRef}/pipeline`, { body: { ref, ...args } }),
    );
    return parse(pipelineSchema, body, "POST pipeline");
  }

  async pipeline(id: number): Promise<Pipeline> {
    const body = await this.client.must(
      { what: `read pipeline #${id}` },
      send("GET", `projects/${this.projectRef}/pipelines/${id}`),
    );
    return parse(pipelineSchema, body, "GET pipelines/:id");
  }

  /**
   * Pipelines created through the API on `ref` and updated since `after`, newest first
   * (pipelines.md "List project pipelines"): where a pipeline optout created is looked for.
   */
  async recentPipelines(ref: string | null, after: Date): Promise<Pipeline[]> {
    const body = await this.client.must(
      { what: "list pipelines", forbidden: "Reporter role is needed to list pipelines" },
      send("GET", `projects/${this.projectRef}/pipelines`, {
        query: {
          ...(ref ? { ref } : {}),
          source: "api",
          updated_after: after.toISOString(),
          order_by: "id",
          sort: "desc",
          per_page: 20,
        },
      }),
    );
    return parse(pipelineSchema.array(), body, "GET pipelines");
  }

  /** A pipeline's variables; undefined when GitLab will not show them (403/404). */
  async pipelineVariables(id: number): Promise<{ key: string; value: string | null }[] | undefined> {
    const body = await this.client.call(
      { what: `read variables of pipeline #${id}`, absent: (f) => f.status === 403 || f.status === 404 },
      send("GET", `projects/${this.projectRef}/pipelines/${id}/variables`),
    );
    return body === undefined
      ? undefined
      : parse(pipelineVariablesSchema, body, "GET pipelines/:id/variables");
  }

  /** A comment (note) on an issue: the notify channel `issue`. Not repeated after a lost answer. */
  async commentOnIssue(iid: number, markdown: string, signal?: AbortSignal): Promise<void> {
    await this.client.must(
      {
        what: `comment on issue #${iid}`,
        forbidden: "the token may not comment on issues",
        idempotent: false,
        signal,
      },
      send("POST", `projects/${this.projectRef}/issues/${iid}/notes`, { body: { body: markdown }, signal }),
    );
  }

  /** The newest deployments to `env`, newest first (deployments.md "List project deployments"). */
  async deployments(env: string) {
    const body = await this.client.must(
      { what: `read deployments to ${env}`, forbidden: "Reporter role is needed to read deployments" },
      send("GET", `projects/${this.projectRef}/deployments`, {
        query: { environment: env, order_by: "id", sort: "desc", per_page: 20, page: 1 },
      }),
    );
    return parse(deploymentsSchema, body, "GET deployments");
  }

  /** Runs a finished job again as a new job (jobs.md "Retry a job"): never repeated after a lost answer. */
  async retryJob(id: number): Promise<Job> {
    const body = await this.client.must(
      {
        what: `retry job ${id}`,
        forbidden: "Developer role is needed to retry jobs",
        idempotent: false,
        write: true,
      },
      send("POST", `projects/${this.projectRef}/jobs/${id}/retry`),
    );
    return parse(jobSchema, body, "POST jobs/:id/retry");
  }

  async job(id: number): Promise<Job> {
    const body = await this.client.must(
      { what: `read job ${id}` },
      send("GET", `projects/${this.projectRef}/jobs/${id}`),
    );
    return parse(jobSchema, body, "GET jobs/:id");
  }

  /** The pipeline id of the last successful deployment to `env`, if any. */
  async lastDeploymentPipeline(env: string): Promise<number | undefined> {
    // order_by=id, not finished_at: GitLab refuses finished_at ordering unless it is paired with a
    // finished_after/finished_before filter (400 "`finished_at` filter and `finished_at` sorting
    // must be paired", app/finders/deployments_finder.rb), and older versions do not know it.
    // Ids grow with creation; among successful deployments to one environment the newest id is
    // the one that finished last unless two ran at once.
    const r = await this.client.call(
      { what: `read deployments to ${env}`, absent: (f) => f.status === 403 || f.status === 404 },
      send("GET", `projects/${this.projectRef}/deployments`, {
        query: { environment: env, status: "success", order_by: "id", sort: "desc", per_page: 1, page: 1 },
      }),
    );
    if (r === undefined) return undefined;
    return parse(deploymentsSchema, r, "GET deployments")[0]?.deployable?.pipeline?.id;
  }
}

function activeLevel(m: { access_level: number; state?: string | undefined }): number | undefined {
  return m.state === undefined || m.state === "active" ? m.access_level : undefined;
}

function definedAttributes(a: VariableAttributes): Record<string, unknown> {
  return Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined));
}
