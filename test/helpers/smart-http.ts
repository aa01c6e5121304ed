/**
 * Git repositories served over smart HTTP, as GitHub and GitLab serve them to CI runners: a node
 * HTTP server on 127.0.0.1 in front of `git http-backend` (git's own CGI program), which counts
 * every request. Each request is one network round trip of the client's, so a test can say how
 * many a command costs (`requests` after `reset()`).
 *
 * Fetches are anonymous, as from a public project. Pushes need a user (http-backend refuses
 * receive-pack without one); with `pushAuth`, a push must carry that user and password (HTTP
 * basic), as a forge wants a token for a push.
 */
import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { basename, dirname } from "node:path";

export interface GitRequest {
  method: string;
  /** The URL path, e.g. `/acme/shop.git/git-upload-pack`. */
  path: string;
  /** `git-upload-pack` (fetch) or `git-receive-pack` (push). */
  service: string;
  status: number;
}

export interface SmartHttp {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The clone URL of a served repository: `url(“acme/shop.git”)`. */
  repoUrl(path: string): string;
  /** Every request since the server started or `reset()`. */
  readonly requests: GitRequest[];
  /** While true, every request is answered 503, as by a forge that is down. */
  down: boolean;
  reset(): void;
  close(): Promise<void>;
}

export interface SmartHttpOptions {
  /** URL path (without the leading "/", e.g. "acme/shop.git") → the git directory it serves. */
  repos: Record<string, string>;
  /** Called with each request as it is answered (the bench logs them from another process). */
  onRequest?: (r: GitRequest) => void;
  /** Pushes must authenticate as this user (HTTP basic); without it, anyone may push. */
  pushAuth?: { username: string; password: string };
}

const services = ["git-upload-pack", "git-receive-pack"];

function serviceOf(path: string, query: URLSearchParams): string {
  const last = path.split("/").at(-1) ?? "";
  if (services.includes(last)) return last;
  return query.get("service") ?? "";
}

function authorized(req: IncomingMessage, auth: SmartHttpOptions["pushAuth"]): string | undefined {
  const header = req.headers.authorization ?? "";
  if (!header.startsWith("Basic ")) return undefined;
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  const i = decoded.indexOf(":");
  const [user, password] = [decoded.slice(0, i), decoded.slice(i + 1)];
  return auth && user === auth.username && password === auth.password ? user : undefined;
}

export async function serveGit(o: SmartHttpOptions): Promise<SmartHttp> {
  const requests: GitRequest[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = decodeURIComponent(url.pathname);
    const record = (status: number) => {
      const r = { method: req.method ?? "", path, service: serviceOf(path, url.searchParams), status };
      requests.push(r);
      o.onRequest?.(r);
    };
    if (http.down) {
      record(503);
      res.writeHead(503).end("service unavailable\n");
      return;
    }
    const repo = Object.keys(o.repos).find((r) => path.startsWith(`/${r}/`));
    if (!repo) {
      record(404);
      res.writeHead(404).end("no such repository\n");
      return;
    }
    let user = "anonymous";
    if (o.pushAuth && serviceOf(path, url.searchParams) === "git-receive-pack") {
      const who = authorized(req, o.pushAuth);
      if (!who) {
        record(401);
        res.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"' }).end("authentication required\n");
        return;
      }
      user = who;
    }
    const gitDir = o.repos[repo]!;
    backend(req, res, {
      GIT_PROJECT_ROOT: dirname(gitDir),
      PATH_INFO: `/${basename(gitDir)}${path.slice(repo.length + 1)}`,
      QUERY_STRING: url.search.replace(/^\?/, ""),
      REMOTE_USER: user,
    }).then(record, () => record(500));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const http: SmartHttp = {
    down: false,
    url: base,
    repoUrl: (p) => `${base}/${p}`,
    requests,
    reset: () => {
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return http;
}

/** Runs `git http-backend` for one request; resolves to the HTTP status it answered. */
function backend(req: IncomingMessage, res: ServerResponse, cgi: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", ["http-backend"], {
      env: {
        PATH: process.env.PATH ?? "",
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_HTTP_EXPORT_ALL: "1",
        REQUEST_METHOD: req.method ?? "GET",
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        // git compresses large request bodies; http-backend inflates them when told so.
        HTTP_CONTENT_ENCODING: String(req.headers["content-encoding"] ?? ""),
        // Protocol v2 is asked for in this header, and only reaches http-backend through this variable.
        GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
        ...cgi,
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    req.pipe(child.stdin);
    child.stdin.on("error", () => {});
    let head = Buffer.alloc(0);
    let status = 200;
    let started = false;
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (chunk: Buffer) => {
      if (started) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString("latin1").split("\r\n")) {
        const i = line.indexOf(":");
        const [name, value] = [line.slice(0, i).trim(), line.slice(i + 1).trim()];
        if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      started = true;
      res.write(head.subarray(end + 4));
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (!started) {
        status = 500;
        res.writeHead(500).end(`git http-backend failed (exit ${code}): ${stderr}`);
      } else res.end();
      resolve(status);
    });
  });
}
