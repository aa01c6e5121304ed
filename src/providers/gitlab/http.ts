/**
 * One request to GitLab's REST API v4, one attempt: a per-request timeout, a log line per request
 * ("GET /projects/acme%2Fshop 200 31ms": method, path, status, time; never a header), and an
 * HttpFailure with GitLab's message, scrubbed, for anything but 2xx. Retrying is the caller's
 * (client.ts, with the shared policy). Paths and bodies are written as GitLab documents them
 * (snake_case): no client library renames anything, so pipeline `inputs` keep their names.
 */
import { parseRetryAfter } from "../retry.js";
import { authHeader, type Credentials } from "./credentials.js";
import { describeBody, HttpFailure, scrub } from "./errors.js";

export interface HttpOptions {
  /** `https://gitlab.example.com/api/v4` */
  apiRoot: string;
  timeoutMs: number;
  log: (line: string) => void;
  credentials: Credentials;
}

export interface RequestOptions {
  query?: Record<string, unknown>;
  body?: Record<string, unknown>;
  signal?: AbortSignal | undefined;
}

export interface Answer {
  status: number;
  body: unknown;
}

export type Method = "GET" | "POST" | "PUT" | "DELETE";

export interface Http {
  request(method: Method, path: string, o?: RequestOptions): Promise<Answer>;
}

export function createHttp(o: HttpOptions): Http {
  const secrets = [o.credentials.token];
  const [authName, authValue] = authHeader(o.credentials);
  return {
    async request(method, path, r = {}) {
      const query = encodeQuery(r.query ?? {});
      // A path starting with "/" is below the host (GraphQL: /api/graphql), else below /api/v4.
      const fromHost = path.startsWith("/");
      const shown = `${fromHost ? "" : "/"}${path}${query ? `?${query}` : ""}`;
      const headers: Record<string, string> = {
        accept: "application/json",
        "user-agent": "optout",
        [authName]: authValue,
      };
      let body: string | undefined;
      if (r.body !== undefined) {
        body = JSON.stringify(r.body);
        headers["content-type"] = "application/json";
      }
      const timeout = AbortSignal.timeout(o.timeoutMs);
      const started = Date.now();
      let res: Response;
      try {
        res = await fetch(`${fromHost ? o.apiRoot.replace(/\/api\/v4$/, "") : o.apiRoot}${shown}`, {
          method,
          headers,
          ...(body !== undefined ? { body } : {}),
          signal: r.signal ? AbortSignal.any([r.signal, timeout]) : timeout,
        });
      } catch (e) {
        throw networkFailure(e, method, shown, Date.now() - started, o.timeoutMs, o.log, secrets);
      }
      const text = await res.text();
      o.log(`${method} ${decodeQuery(shown)} ${res.status} ${Date.now() - started}ms`);
      const contentType = res.headers.get("content-type");
      if (!res.ok) {
        const said = scrub(describeBody(text, contentType), secrets);
        throw new HttpFailure(
          res.status,
          method,
          shown,
          said,
          parseRetryAfter(res.headers.get("retry-after")),
        );
      }
      const parsed =
        res.status === 204 || text === "" ? null : contentType?.includes("json") ? JSON.parse(text) : text;
      return { status: res.status, body: parsed };
    },
  };
}

function networkFailure(
  e: unknown,
  method: string,
  path: string,
  ms: number,
  timeoutMs: number,
  log: (line: string) => void,
  secrets: string[],
): HttpFailure {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const timedOut = err.name === "TimeoutError" || err.name === "AbortError";
  const code = err.cause?.code;
  // Refused or unresolvable: the request never left, so even a POST may be sent again.
  const sent = !(code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN");
  const limit = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`;
  // undici says "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND, a certificate error).
  const why = timedOut
    ? `no answer within ${limit}`
    : (code ?? err.cause?.message ?? err.message ?? "network error");
  log(`${method} ${decodeQuery(path)} failed after ${ms}ms (${why})`);
  return new HttpFailure(0, method, path, scrub(why, secrets), undefined, sent);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Rack-style query, as GitLab reads it: `filter[environment_scope]=x`, arrays as `a[]=1`. */
export function encodeQuery(params: Record<string, unknown>): string {
  const parts: string[] = [];
  const add = (key: string, value: unknown) => {
    if (value === undefined || value === null) return;
    if (Array.isArray(value)) for (const x of value) add(`${key}[]`, x);
    else if (isPlainObject(value)) for (const [k, x] of Object.entries(value)) add(`${key}[${k}]`, x);
    else
      parts.push(
        `${encodeURIComponent(key).replace(/%5B/g, "[").replace(/%5D/g, "]")}=${encodeURIComponent(String(value))}`,
      );
  };
  for (const [k, v] of Object.entries(params)) add(k, v);
  return parts.join("&");
}

function decodeQuery(path: string): string {
  const i = path.indexOf("?");
  if (i < 0) return path;
  try {
    return `${path.slice(0, i)}?${decodeURIComponent(path.slice(i + 1))}`;
  } catch {
    return path;
  }
}
