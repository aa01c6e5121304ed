/** The fake GitHub's world: users, repositories and what lives in them, seeded by each test. */
import { randomBytes } from "node:crypto";

export interface FakeUser {
  login: string;
  id: number;
  token: string;
  /** An installation token of a GitHub App: acts as `<slug>[bot]` on the installed repositories only. */
  installation?: { appId: number; repos: Set<string>; permissions: Record<string, string> };
}

/** A GitHub App: its public key verifies the JWTs it signs; installed on some repositories. */
export interface FakeApp {
  id: number;
  slug: string;
  publicKey: string;
  /** Lowercased owner/name → installation id. */
  installations: Map<string, number>;
  /** What its installation tokens may do, e.g. { statuses: "write", actions_variables: "write" }. */
  permissions: Record<string, string>;
}

export interface FakeStatus {
  id: number;
  state: string;
  context: string;
  description: string | null;
  target_url: string | null;
  created_at: string;
  creator: string;
}

export interface FakeVariable {
  value: string;
  created_at: string;
  updated_at: string;
}

export interface FakeWorkflow {
  id: number;
  file: string;
  name: string;
  /** Inputs the workflow declares; GitHub refuses others with 422. */
  inputs: string[];
  /** The run-name expression, evaluated on dispatch (null: GitHub shows the workflow's name). */
  runName: ((inputs: Record<string, string>) => string) | null;
  /** How its next runs end. */
  conclusion: "success" | "failure" | "cancelled" | "timed_out";
  /** Statuses a run shows to successive GETs before `completed`. */
  progression: string[];
  /** List calls that do not show a new run yet (GitHub takes a few seconds). */
  listDelay: number;
  /**
   * The environment its job deploys to, with the protection rules that make a run wait (status
   * `waiting`, listed by pending_deployments): reviewers ("alice", "team:acme/release") or a
   * wait timer in minutes. A run waits while "waiting" is in its progression.
   */
  environment?: { name: string; reviewers: string[]; waitTimer?: number };
}

export interface FakeRun {
  id: number;
  workflow: FakeWorkflow;
  name: string;
  branch: string;
  sha: string;
  status: string;
  conclusion: string | null;
  pending: string[];
  inputs: Record<string, string>;
  created_at: string;
  hiddenFromLists: number;
  actor: string;
  /** 1 for the first run, +1 per re-run. */
  attempt: number;
  /** When the latest attempt started (default: created_at). */
  startedAt?: string;
}

export interface FakeDeployment {
  id: number;
  environment: string;
  sha: string;
  ref: string;
  payload: unknown;
  created_at: string;
  /** Newest first. */
  statuses: Array<{ id: number; state: string; created_at: string; log_url?: string }>;
}

export class FakeRepo {
  readonly branches = new Map<string, string>();
  readonly commits = new Set<string>();
  /** sha → statuses, newest first (as GitHub lists them). */
  readonly statuses = new Map<string, FakeStatus[]>();
  readonly variables = new Map<string, FakeVariable>();
  /** environment → its variables. */
  readonly environments = new Map<string, Map<string, FakeVariable>>();
  /** lowercased login → role_name. */
  readonly roles = new Map<string, string>();
  readonly workflows = new Map<string, FakeWorkflow>();
  readonly runs: FakeRun[] = [];
  readonly deployments: FakeDeployment[] = [];
  /** issue number → its comments (bodies), oldest first. */
  readonly issues = new Map<number, string[]>();
  /**
   * branch → the rules of the rulesets that apply to it: a type ("non_fast_forward",
   * "deletion"), or a rule with parameters (`required_status_checks`).
   */
  readonly rulesets = new Map<
    string,
    Array<string | { type: string; parameters: Record<string, unknown> }>
  >();
  /** branch → classic branch protection (absent: not protected, 404). */
  readonly protection = new Map<string, { allowForcePushes: boolean; allowDeletions: boolean }>();
  /** How dispatches answer: GitHub.com, a server ignoring the field (204), or older GHES refusing it. */
  dispatchMode: "details" | "ignore-details" | "reject-details" = "details";

  constructor(
    readonly world: FakeWorld,
    readonly owner: string,
    readonly name: string,
    readonly id: number,
    public defaultBranch = "main",
  ) {
    this.commit(defaultBranch);
  }

  get fullName(): string {
    return `${this.owner}/${this.name}`;
  }

  /** A new commit at the tip of `branch`; returns its sha. */
  commit(branch = this.defaultBranch): string {
    const sha = randomBytes(20).toString("hex");
    this.commits.add(sha);
    this.branches.set(branch, sha);
    return sha;
  }

  addStatus(sha: string, s: Pick<FakeStatus, "state" | "context"> & Partial<FakeStatus>): FakeStatus {
    const status: FakeStatus = {
      id: this.world.nextId(),
      description: null,
      target_url: null,
      created_at: new Date().toISOString(),
      creator: "ci-bot",
      ...s,
    };
    this.statuses.set(sha, [status, ...(this.statuses.get(sha) ?? [])]);
    return status;
  }

  /** The newest status for a context on a commit, as GitHub's UI shows it. */
  latest(sha: string, context: string): FakeStatus | undefined {
    return this.statuses.get(sha)?.find((s) => s.context.toLowerCase() === context.toLowerCase());
  }

  setRole(login: string, role: string): void {
    this.roles.set(login.toLowerCase(), role);
  }

  environment(name: string): Map<string, FakeVariable> {
    const env = this.environments.get(name) ?? new Map<string, FakeVariable>();
    this.environments.set(name, env);
    return env;
  }

  setVariable(name: string, value: string, env?: string): void {
    const now = new Date().toISOString();
    (env ? this.environment(env) : this.variables).set(name, { value, created_at: now, updated_at: now });
  }

  variable(name: string, env?: string): string | undefined {
    return (env ? this.environments.get(env) : this.variables)?.get(name)?.value;
  }

  /** A finished run of `workflow`, as a past deployment left it. */
  addRun(workflow: FakeWorkflow, inputs: Record<string, string>, conclusion = "success"): FakeRun {
    const run: FakeRun = {
      id: this.world.nextId(),
      workflow,
      name: workflow.runName ? workflow.runName(inputs) : workflow.name,
      branch: this.defaultBranch,
      sha: this.branches.get(this.defaultBranch)!,
      status: "completed",
      conclusion,
      pending: [],
      inputs,
      created_at: new Date(Date.now() - 86_400_000).toISOString(),
      hiddenFromLists: 0,
      actor: "deployer",
      attempt: 1,
    };
    this.runs.push(run);
    return run;
  }

  addWorkflow(file: string, w: Partial<Omit<FakeWorkflow, "id" | "file">> = {}): FakeWorkflow {
    const workflow: FakeWorkflow = {
      id: this.world.nextId(),
      file,
      name: w.name ?? file.replace(/\.ya?ml$/, ""),
      inputs: w.inputs ?? [],
      runName: w.runName ?? null,
      conclusion: w.conclusion ?? "success",
      progression: w.progression ?? ["queued", "in_progress"],
      listDelay: w.listDelay ?? 0,
      ...(w.environment ? { environment: w.environment } : {}),
    };
    this.workflows.set(file, workflow);
    return workflow;
  }

  /** A deployment; `run` is the workflow run that made it (named in its statuses' log_url). */
  addDeployment(environment: string, payload: unknown, states: string[], run?: FakeRun): FakeDeployment {
    const sha = this.branches.get(this.defaultBranch)!;
    const d: FakeDeployment = {
      id: this.world.nextId(),
      environment,
      sha,
      ref: this.defaultBranch,
      payload,
      created_at: new Date().toISOString(),
      statuses: states.map((state) => ({
        id: this.world.nextId(),
        state,
        created_at: new Date().toISOString(),
        ...(run
          ? { log_url: `https://github.com/${this.fullName}/actions/runs/${run.id}/job/${run.id + 1}` }
          : {}),
      })),
    };
    this.deployments.unshift(d);
    return d;
  }
}

export class FakeWorld {
  readonly users = new Map<string, FakeUser>();
  readonly apps = new Map<number, FakeApp>();
  readonly repos = new Map<string, FakeRepo>();
  /** "org/slug" → lowercased login → membership state. */
  readonly teams = new Map<string, Map<string, "active" | "pending">>();
  private id = 1000;

  nextId(): number {
    return ++this.id;
  }

  addUser(login: string, token = `ghp_${randomBytes(18).toString("hex")}`): FakeUser {
    const user = { login, id: this.nextId(), token };
    this.users.set(token, user);
    return user;
  }

  addRepo(fullName: string, defaultBranch = "main"): FakeRepo {
    const [owner, name] = fullName.split("/") as [string, string];
    const repo = new FakeRepo(this, owner, name, this.nextId(), defaultBranch);
    this.repos.set(fullName.toLowerCase(), repo);
    return repo;
  }

  addApp(slug: string, publicKey: string, permissions: Record<string, string>): FakeApp {
    const app: FakeApp = { id: this.nextId(), slug, publicKey, installations: new Map(), permissions };
    this.apps.set(app.id, app);
    return app;
  }

  addTeamMember(team: string, login: string, state: "active" | "pending" = "active"): void {
    const t = this.teams.get(team.toLowerCase()) ?? new Map<string, "active" | "pending">();
    this.teams.set(team.toLowerCase(), t);
    t.set(login.toLowerCase(), state);
  }
}
