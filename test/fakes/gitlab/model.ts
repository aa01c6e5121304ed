/**
 * The fake GitLab's world: users with tokens, groups nested by path, projects with refs, commit
 * statuses, CI/CD variables, pipelines and deployments. Plain data; server.ts and routes.ts give
 * it GitLab's rules.
 */

/** docs.gitlab.com/api/members/#roles */
export const Level = {
  minimal: 5,
  guest: 10,
  reporter: 20,
  developer: 30,
  maintainer: 40,
  owner: 50,
} as const;

export interface FakeUser {
  id: number;
  username: string;
  /** PRIVATE-TOKEN value. */
  token: string;
  /** JOB-TOKEN value (a running job's CI_JOB_TOKEN), if any. */
  jobToken?: string;
  /** An OAuth access token, accepted only as `Authorization: Bearer`. */
  oauthToken?: string;
}

export interface FakeGroup {
  id: number;
  /** Full path, e.g. "acme/platform". Its parent is the path minus the last segment. */
  path: string;
  public: boolean;
  /** user id → access level (direct membership only; inheritance is computed). */
  members: Map<number, number>;
  /** user id → membership state ("active" | "awaiting"). */
  states: Map<number, string>;
}

export interface FakeStatus {
  id: number;
  sha: string;
  ref: string;
  name: string;
  status: string;
  description: string | null;
  target_url: string | null;
  userId: number;
  /** A job of the pipeline (GitLab runs it) rather than an external status posted by the API. */
  job?: boolean;
}

export interface FakeVariable {
  key: string;
  value: string;
  environment_scope: string;
  protected: boolean;
  masked: boolean;
  hidden: boolean;
  raw: boolean;
  variable_type: "env_var" | "file";
  description: string | null;
}

export interface FakePipeline {
  id: number;
  ref: string;
  sha: string;
  status: string;
  /** Statuses still to come, one per GET (GitLab's pipelines move on between polls). */
  script: string[];
  variables: { key: string; value: string; variable_type: string }[];
  /** The inputs it was created with (after defaults). */
  inputs?: Record<string, string>;
  userId: number;
  /** How it was created ("api" through POST /pipeline) and when it last changed. */
  source?: string;
  updatedAt?: string;
  /** Its workflow:name, when the project's configuration gives one. */
  name?: string | null;
}

export interface FakeDeployment {
  id: number;
  environment: string;
  status: "created" | "running" | "success" | "failed" | "canceled";
  pipelineId: number;
  finishedAt: string;
}

export interface FakeProject {
  id: number;
  path: string;
  public: boolean;
  defaultBranch: string;
  /** ref → sha */
  refs: Map<string, string>;
  members: Map<number, number>;
  statuses: FakeStatus[];
  variables: FakeVariable[];
  pipelines: FakePipeline[];
  deployments: FakeDeployment[];
  /** Issue iids that exist, and the notes posted on them. */
  issues: Set<number>;
  notes: { issue: number; body: string; userId: number }[];
  /**
   * Protected branch rules by name (a name may be a wildcard, `optout/*`): whether force push is
   * allowed, and the level allowed to push and merge (default Maintainer).
   */
  protectedBranches: Map<string, ProtectedRule>;
  /** workflow:name of the project's .gitlab-ci.yml, evaluated with a new pipeline's variables and inputs. */
  workflowName?: (vars: Record<string, string>) => string;
  /**
   * ci_pipeline_variables_minimum_override_role (projects.md): who may pass pipeline variables.
   * `no_one_allowed` is the default for new GitLab.com projects since 17.7; the fake's default
   * is `developer`, what older projects have.
   */
  pipelineVariablesRole?: "no_one_allowed" | "developer" | "maintainer" | "owner";
  /** The inputs the pipeline configuration declares (spec:inputs): name → default (null: required). */
  specInputs?: Record<string, string | null>;
}

export interface ProtectedRule {
  allow_force_push: boolean;
  merge_access_level?: number;
}

/**
 * The rule protecting `branch`: an exact name, else a wildcard (`*` matches any characters,
 * slashes included: user/project/repository/branches/protected.md "wildcard protected branches").
 */
export function protectingRule(p: FakeProject, branch: string): ProtectedRule | undefined {
  const exact = p.protectedBranches.get(branch);
  if (exact) return exact;
  for (const [name, rule] of p.protectedBranches) {
    if (!name.includes("*")) continue;
    const re = new RegExp(
      `^${name
        .split("*")
        .map((x) => x.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*")}$`,
    );
    if (re.test(branch)) return rule;
  }
  return undefined;
}

export function variable(key: string, value: string, over: Partial<FakeVariable> = {}): FakeVariable {
  return {
    key,
    value,
    environment_scope: "*",
    protected: false,
    masked: false,
    hidden: false,
    raw: false,
    variable_type: "env_var",
    description: null,
    ...over,
  };
}

/** The API's view of a variable (hidden ones never show their value). */
export function variableJson(v: FakeVariable): Record<string, unknown> {
  return { ...v, value: v.hidden ? null : v.value };
}

export function statusJson(s: FakeStatus, users: Map<number, FakeUser>): Record<string, unknown> {
  const { userId, job: _job, ...rest } = s;
  return { ...rest, author: { id: userId, username: users.get(userId)?.username }, allow_failure: false };
}
