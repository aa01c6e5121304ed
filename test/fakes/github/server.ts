/**
 * A fake GitHub REST API on 127.0.0.1 that holds every request to GitHub's published contract
 * (@octokit/openapi): an unknown method/path, an undeclared or missing query parameter, or a
 * body its schema rejects is answered 404/400/422 AND recorded in `violations`, which every test
 * asserts empty — a request the real API would refuse (or silently misread) fails the test.
 * Responses are checked against the contract too, so the fake cannot drift from GitHub.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { appFromJwt, handleAsApp } from "./apps.js";
import { type Call, handle, message, type Reply } from "./handlers.js";
import { contract, type Operation } from "./openapi.js";
import { FakeWorld } from "./state.js";

export interface FaultOptions {
  /** Answer with this status (omit with delayMs for a slow but normal answer). */
  status?: number;
  /** How many matching requests fail (default 1). */
  times?: number;
  /** Retry-After header, in seconds. */
  retryAfter?: number;
  body?: unknown;
  /** An HTML page instead of a JSON body (what a proxy in front of GitHub Enterprise answers). */
  html?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering: a hang when longer than the client's timeout. */
  delayMs?: number;
  /** Carry the request out, then answer with the fault (GitHub did it, but the answer was lost). */
  afterHandling?: boolean;
}

interface Fault extends FaultOptions {
  method: string;
  path: RegExp;
  left: number;
}

export interface LoggedRequest {
  method: string;
  path: string;
  query: string;
  body: unknown;
  status?: number;
  /** Raw Authorization header (tests check what was sent; never printed). */
  authorization: string | undefined;
}

const defaultBodies: Record<number, string> = {
  401: "Bad credentials",
  403: "Resource not accessible by personal access token",
  404: "Not Found",
  422: "Validation Failed",
  429: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
  500: "Server Error",
  502: "Server Error",
  503: "Service Unavailable",
};

export class FakeGitHub {
  world = new FakeWorld();
  violations: string[] = [];
  requests: LoggedRequest[] = [];
  url = "";
  private faults: Fault[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private server?: Server;

  static async start(): Promise<FakeGitHub> {
    const fake = new FakeGitHub();
    contract(); // load the description before the first request, not during a timed one
    fake.server = createServer((req, res) => {
      fake.serve(req, res).catch((e: Error) => {
        fake.violations.push(`fake crashed on ${req.method} ${req.url}: ${e.stack}`);
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    await new Promise<void>((r) => fake.server!.listen(0, "127.0.0.1", r));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** A fresh world, no faults, empty logs (between tests). */
  reset(): void {
    this.world = new FakeWorld();
    this.violations = [];
    this.requests = [];
    this.faults = [];
  }

  /** The next `times` requests matching `method` and `path` (glob with *, or a RegExp) fail. */
  fail(method: string, path: string | RegExp, opts: FaultOptions): void {
    const re =
      typeof path === "string"
        ? new RegExp(`^${path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", "[^/]+")}$`)
        : path;
    this.faults.push({ ...opts, method: method.toUpperCase(), path: re, left: opts.times ?? 1 });
  }

  /** Requests made, optionally only those matching method and path prefix. */
  count(method?: string, pathPrefix = ""): number {
    return this.requests.filter((r) => (!method || r.method === method) && r.path.startsWith(pathPrefix))
      .length;
  }

  /** "GET /user" lines: what a command asked, in order. */
  lines(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path}`);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const method = (req.method ?? "GET").toUpperCase();
    const raw = await readBody(req);
    const entry: LoggedRequest = {
      method,
      path: url.pathname,
      query: url.search,
      body: raw ? safeJson(raw) : undefined,
      authorization: req.headers.authorization,
    };
    this.requests.push(entry);
    const send = (reply: Reply) => {
      entry.status = reply.status;
      this.write(res, reply);
    };
    const where = `${method} ${url.pathname}${url.search}`;
    const found = contract().match(method, url.pathname);
    if (!found) {
      this.violations.push(`${where}: no such operation in GitHub's API`);
      return send(message(404, "Not Found"));
    }
    const problem = this.checkRequest(found.op, url.searchParams, raw);
    if (problem) {
      this.violations.push(`${where} (${found.op.operationId}): ${problem}`);
      return send(message(422, `Invalid request.\n\n${problem}`));
    }
    const fault = this.faults.find((f) => f.left > 0 && f.method === method && f.path.test(url.pathname));
    if (fault) {
      fault.left--;
      if (fault.delayMs) await this.delay(fault.delayMs);
      if (res.destroyed) return;
      if (fault.status && !fault.afterHandling) return send(this.faultReply(fault));
    }
    const presented = /^(?:token|bearer)\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? "";
    if (presented.split(".").length === 3 && !this.world.users.has(presented)) {
      // A JWT: the GitHub App itself.
      const app = appFromJwt(this.world, presented);
      const reply =
        "status" in app
          ? app
          : handleAsApp(
              this.world,
              app,
              found.op.operationId,
              found.params,
              entry.body as Record<string, unknown>,
            );
      this.checkResponse(found.op, reply, where);
      return send(reply);
    }
    const user = this.world.users.get(presented);
    if (!user) return send(message(401, "Bad credentials"));
    const call: Call = {
      world: this.world,
      user,
      params: found.params,
      query: url.searchParams,
      body: entry.body as Record<string, unknown> | undefined,
      accept: String(req.headers.accept ?? ""),
    };
    const reply = handle(found.op.operationId, call);
    if (reply.status === 501) this.violations.push(`${where}: ${JSON.stringify(reply.body)}`);
    this.checkResponse(found.op, reply, where);
    send(fault?.status && fault.afterHandling ? this.faultReply(fault) : reply);
  }

  private checkRequest(op: Operation, query: URLSearchParams, raw: string): string | undefined {
    for (const name of new Set(query.keys())) {
      // GitHub ignores unknown parameters; a typo would silently change the answer, so refuse it here.
      const param = op.query.get(name);
      if (!param) return `query parameter "${name}" is not a parameter of ${op.operationId}`;
      const allowed = param.schema?.enum;
      if (allowed && !allowed.includes(query.get(name)))
        return `query parameter ${name} must be one of ${allowed.join(", ")}`;
      // Types and formats too: `created=>=2026-…` is not the date-time the description declares.
      const bad = contract().checkQuery(param, query.get(name) ?? "");
      if (bad) return `query parameter ${name}=${query.get(name)}: ${bad}`;
    }
    for (const [name, p] of op.query)
      if (p.required && !query.has(name)) return `query parameter ${name} is required`;
    if (!op.body) return raw ? "this operation takes no body" : undefined;
    if (!raw) return op.body.required ? "a JSON body is required" : undefined;
    const body = safeJson(raw);
    if (body === undefined) return "the body is not JSON";
    const validate = op.body.validate();
    if (!validate(body)) {
      return `body: ${(validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ")}`;
    }
    return undefined;
  }

  private checkResponse(op: Operation, reply: Reply, where: string): void {
    if (reply.status >= 300 || reply.body === undefined) return;
    const validate = op.responses[String(reply.status)]?.();
    if (!op.responses[String(reply.status)]) {
      this.violations.push(
        `${where}: the fake answered ${reply.status}, which ${op.operationId} never answers`,
      );
    } else if (validate && !validate(reply.body)) {
      const errors = (validate.errors ?? []).slice(0, 3).map((e) => `${e.instancePath} ${e.message}`);
      this.violations.push(`${where}: the fake's answer does not match the contract: ${errors.join("; ")}`);
    }
  }

  private faultReply(f: Fault): Reply {
    const status = f.status!;
    const headers: Record<string, string> = { ...f.headers };
    if (f.retryAfter !== undefined) headers["retry-after"] = String(f.retryAfter);
    if (f.html !== undefined) return { status, headers, text: { contentType: "text/html", data: f.html } };
    const body = f.body ?? message(status, defaultBodies[status] ?? "Error").body;
    return { status, body, headers };
  }

  private delay(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        r();
      }, ms);
      this.timers.add(t);
    });
  }

  private write(res: ServerResponse, reply: Reply): void {
    if (res.destroyed) return;
    const headers: Record<string, string> = {
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": "4999",
      "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600),
      "x-github-request-id": `FAKE:${this.requests.length}`,
      ...reply.headers,
    };
    if (reply.text) {
      res
        .writeHead(reply.status, { ...headers, "content-type": reply.text.contentType })
        .end(reply.text.data);
    } else if (reply.body === undefined) {
      res.writeHead(reply.status, headers).end();
    } else {
      res
        .writeHead(reply.status, { ...headers, "content-type": "application/json; charset=utf-8" })
        .end(JSON.stringify(reply.body));
    }
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
