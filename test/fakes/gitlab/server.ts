/**
 * A fake GitLab REST API v4 on 127.0.0.1 (node:http) that enforces GitLab's documented rules, so
 * a request the real API would reject fails the test. It records every `request`, and every
 * `violation`: a request GitLab would refuse as malformed, or that optout promised never to send
 * (a variable request without `filter[environment_scope]`, a status without `ref`). Tests assert
 * `violations` is empty.
 *
 * Faults: answer a matching request with a status (429 + Retry-After, 502, 409, …) instead of
 * handling it, handle it and then answer with a failure (`afterApply`: the "lost answer"), or
 * never answer (`hang`).
 *
 * GraphQL (POST /api/graphql, recorded with that path): graphql.ts.
 *
 * Authentication (https://docs.gitlab.com/api/rest/authentication/): PRIVATE-TOKEN or JOB-TOKEN
 * header, or an OAuth access token as `Authorization: Bearer`; none or an unknown token → 401
 * "401 Unauthorized". A job token reaches only the
 * endpoints listed in https://docs.gitlab.com/ci/jobs/ci_job_token/#job-token-access; GET /user,
 * variables and statuses are not among them, so a job token is answered like no token (401).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { graphql } from "./graphql.js";
import {
  type FakeGroup,
  type FakeProject,
  type FakeUser,
  type FakeVariable,
  Level,
  variable,
} from "./model.js";
import { route } from "./routes.js";

export interface RecordedRequest {
  method: string;
  /** Below /api/v4, as sent (still URL-encoded), without the query. */
  path: string;
  query: Record<string, string>;
  body: unknown;
  auth: "private" | "job" | "bearer" | "none";
  /** The status answered (0 when the fake hung). */
  status: number;
}

export interface Fault {
  method?: string;
  path?: RegExp;
  /** How many matching requests it hits (default 1). */
  times?: number;
  status?: number;
  retryAfter?: number | string;
  body?: unknown;
  /** An HTML page instead of JSON (a proxy's or GitLab's own error page). */
  html?: string;
  hang?: boolean;
  /** Handle the request, then answer `status` instead (the server acted; the client never hears). */
  afterApply?: boolean;
}

export interface Answer {
  status: number;
  body?: unknown;
  html?: string;
  headers?: Record<string, string>;
}

export interface RouteContext {
  fake: FakeGitLab;
  user: FakeUser;
  method: string;
  /** Path segments below /api/v4, each URL-decoded (so "acme%2Fshop" is one segment). */
  segments: string[];
  query: URLSearchParams;
  body: Record<string, unknown>;
  violation: (text: string) => void;
}

export class FakeGitLab {
  readonly requests: RecordedRequest[] = [];
  readonly violations: string[] = [];
  readonly users = new Map<number, FakeUser>();
  readonly groups = new Map<string, FakeGroup>();
  readonly projects = new Map<string, FakeProject>();
  /** Statuses a new pipeline goes through, one per GET (default: pending, running, success). */
  pipelineScript: string[] = ["pending", "running", "success"];
  /** false: play a GitLab older than 16.9, whose GraphQL Project has no maxAccessLevel. */
  graphqlMaxAccessLevel = true;
  /** Job id → statuses still to come, one per GET (a retried job moves on like a pipeline). */
  readonly jobScripts = new Map<number, string[]>();
  private faults: (Fault & { left: number })[] = [];
  private nextId = 100;
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  url = "";

  id(): number {
    return ++this.nextId;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const addr = server.address();
    if (!addr || typeof addr === "string") throw new Error("no address");
    this.url = `http://127.0.0.1:${addr.port}`;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  addUser(username: string, extra: Partial<FakeUser> = {}): FakeUser {
    const user: FakeUser = {
      id: this.id(),
      username,
      token: `glpat-${username}-${"x".repeat(20)}`,
      ...extra,
    };
    this.users.set(user.id, user);
    return user;
  }

  addGroup(
    path: string,
    members: Record<string, number> = {},
    opts: { public?: boolean; awaiting?: string[] } = {},
  ) {
    const group: FakeGroup = {
      id: this.id(),
      path,
      public: opts.public ?? false,
      members: new Map(),
      states: new Map(),
    };
    for (const [name, level] of Object.entries(members)) group.members.set(this.user(name).id, level);
    for (const name of opts.awaiting ?? []) group.states.set(this.user(name).id, "awaiting");
    this.groups.set(path, group);
    return group;
  }

  addProject(
    path: string,
    opts: { members?: Record<string, number>; refs?: Record<string, string>; defaultBranch?: string } = {},
  ) {
    const project: FakeProject = {
      id: this.id(),
      path,
      public: false,
      defaultBranch: opts.defaultBranch ?? "main",
      refs: new Map(Object.entries(opts.refs ?? { main: "a".repeat(40) })),
      members: new Map(),
      statuses: [],
      variables: [],
      pipelines: [],
      deployments: [],
      issues: new Set([42]),
      notes: [],
      protectedBranches: new Map(),
    };
    for (const [name, level] of Object.entries(opts.members ?? {}))
      project.members.set(this.user(name).id, level);
    this.projects.set(path, project);
    return project;
  }

  user(name: string): FakeUser {
    const u = [...this.users.values()].find((x) => x.username === name);
    if (!u) throw new Error(`no fake user ${name}`);
    return u;
  }

  project(idOrPath: string): FakeProject | undefined {
    if (/^\d+$/.test(idOrPath)) return [...this.projects.values()].find((p) => p.id === Number(idOrPath));
    return this.projects.get(idOrPath);
  }

  setVariable(
    projectPath: string,
    key: string,
    value: string,
    over: Partial<FakeVariable> = {},
  ): FakeVariable {
    const p = this.projects.get(projectPath)!;
    const v = variable(key, value, over);
    p.variables = p.variables.filter((x) => !(x.key === key && x.environment_scope === v.environment_scope));
    p.variables.push(v);
    return v;
  }

  clearFaults(): void {
    this.faults = [];
  }

  inject(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  /** Requests as "METHOD path" lines, for asserting counts and order. */
  lines(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path}`);
  }

  /** Levels from the project and every ancestor group of its namespace (members/all semantics). */
  projectLevel(p: FakeProject, userId: number): number | undefined {
    const levels = [p.members.get(userId), this.groupLevel(p.path.split("/").slice(0, -1).join("/"), userId)];
    const known = levels.filter((l): l is number => l !== undefined);
    return known.length ? Math.max(...known) : undefined;
  }

  /** Direct or inherited from an ancestor group; awaiting members have no access. */
  groupLevel(path: string, userId: number): number | undefined {
    const parts = path.split("/");
    const levels: number[] = [];
    for (let i = 1; i <= parts.length; i++) {
      const g = this.groups.get(parts.slice(0, i).join("/"));
      const l = g?.members.get(userId);
      if (g && l !== undefined && g.states.get(userId) !== "awaiting") levels.push(l);
    }
    return levels.length ? Math.max(...levels) : undefined;
  }

  canSee(p: FakeProject, userId: number): boolean {
    return p.public || (this.projectLevel(p, userId) ?? 0) >= Level.guest;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", this.url);
    const method = req.method ?? "GET";
    const path = url.pathname.replace(/^\/api\/v4/, "");
    const auth = req.headers["private-token"]
      ? "private"
      : req.headers["job-token"]
        ? "job"
        : /^bearer /i.test(req.headers.authorization ?? "")
          ? "bearer"
          : "none";
    const rec: RecordedRequest = {
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      body: undefined,
      auth,
      status: 0,
    };
    this.requests.push(rec);
    const violation = (text: string) => this.violations.push(`${method} ${path}: ${text}`);
    const send = (a: Answer) => {
      rec.status = a.status;
      if (a.html !== undefined) {
        res.writeHead(a.status, { "content-type": "text/html; charset=utf-8", ...a.headers }).end(a.html);
        return;
      }
      res.writeHead(a.status, { "content-type": "application/json", ...a.headers });
      res.end(a.status === 204 ? undefined : JSON.stringify(a.body ?? {}));
    };

    const isGraphql = url.pathname === "/api/graphql";
    if (!url.pathname.startsWith("/api/v4/") && !isGraphql) {
      violation("not below /api/v4");
      return send({ status: 404, body: { error: "404 Not Found" } });
    }
    let body: Record<string, unknown> = {};
    if (raw) {
      if (!String(req.headers["content-type"]).includes("application/json"))
        violation("a body that is not JSON");
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
        rec.body = body;
      } catch {
        violation("malformed JSON body");
        return send({ status: 400, body: { error: "body is not valid JSON" } });
      }
    }
    if (/private_token|job_token/i.test(url.search)) violation("a token in the query string");

    const fault = this.faults.find(
      (f) => f.left > 0 && (!f.method || f.method === method) && (!f.path || f.path.test(path)),
    );
    if (fault) fault.left--;
    if (fault?.hang) return; // never answered; the socket dies on stop()
    const faultAnswer = (): Answer => ({
      status: fault!.status ?? 502,
      body: fault!.body ?? { message: `${fault!.status ?? 502} fault injected` },
      ...(fault!.html !== undefined ? { html: fault!.html } : {}),
      headers: fault!.retryAfter !== undefined ? { "retry-after": String(fault!.retryAfter) } : {},
    });
    if (fault && !fault.afterApply) return send(faultAnswer());

    if (isGraphql) {
      const answer = graphql(
        this,
        method,
        body,
        { kind: auth, user: this.authenticate(req, auth) },
        violation,
      );
      return send(fault?.afterApply ? faultAnswer() : answer);
    }
    const user = this.authenticate(req, auth);
    if (!user) return send({ status: 401, body: { message: "401 Unauthorized" } });
    const segments = path.split("/").filter(Boolean).map(decodeURIComponent);
    const answer = route({ fake: this, user, method, segments, query: url.searchParams, body, violation });
    if (!answer) {
      violation("no such endpoint in GitLab's API (is the project path URL-encoded?)");
      return send({ status: 404, body: { error: "404 Not Found" } });
    }
    send(fault?.afterApply ? faultAnswer() : answer);
  }

  private authenticate(req: IncomingMessage, auth: RecordedRequest["auth"]): FakeUser | undefined {
    const users = [...this.users.values()];
    if (auth === "private") return users.find((u) => u.token === req.headers["private-token"]);
    if (auth === "bearer") {
      const bearer = (req.headers.authorization ?? "").slice("bearer ".length);
      return users.find((u) => u.oauthToken === bearer);
    }
    // A job token authenticates none of the endpoints this fake serves (see the header comment).
    return undefined;
  }
}

export async function startFakeGitLab(): Promise<FakeGitLab> {
  return new FakeGitLab().start();
}
