/**
 * Our `requesterFn` for gitbeaker's resource classes: one attempt per call (gitbeaker's own
 * handler would loop on 429/502 regardless of Retry-After), a per-request timeout, a log line per
 * request ("GET /projects/acme%2Fshop 200 31ms": method, path, status, time; never a header),
 * and an HttpFailure with GitLab's message, scrubbed, for anything but 2xx.
 */
import { parseRetryAfter } from "../retry.js";
import { describeBody, HttpFailure, scrub } from "./errors.js";

type Rest = typeof import("@gitbeaker/rest");
type ResourceOptions = ConstructorParameters<Rest["Users"]>[0];
export type RequesterFn = NonNullable<ResourceOptions["requesterFn"]>;
export type Requester = ReturnType<RequesterFn>;

export interface RequesterHooks {
  apiRoot: string;
  timeoutMs: number;
  log: (line: string) => void;
  secrets: string[];
}

interface RequestOptions {
  searchParams?: Record<string, unknown>;
  body?: unknown;
  signal?: AbortSignal;
}

/** One attempt per call, logged ("GET /projects/acme%2Fshop 200 31ms"), never a header in a message. */
export function makeRequesterFn(hooks: RequesterHooks): RequesterFn {
  return (resource) => {
    const send =
      (method: string) =>
      async (endpoint: string, options: RequestOptions = {}): Promise<never> => {
        const base = resource.url.replace(/\/+$/, "");
        const query = encodeQuery(options.searchParams ?? {});
        const url = `${base}/${endpoint}${query ? `?${query}` : ""}`;
        const path = url.slice(hooks.apiRoot.length);
        const headers: Record<string, string> = { ...resource.headers, accept: "application/json" };
        for (const [name, value] of Object.entries(resource.authHeaders)) headers[name] = await value();
        let body: string | undefined;
        if (isPlainObject(options.body) && Object.keys(options.body).length > 0) {
          body = JSON.stringify(decamelizeKeys(options.body));
          headers["content-type"] = "application/json";
        }
        const started = Date.now();
        let res: Response;
        try {
          res = await fetch(url, {
            method,
            headers,
            ...(body !== undefined ? { body } : {}),
            signal: options.signal ?? AbortSignal.timeout(hooks.timeoutMs),
          });
        } catch (e) {
          throw networkFailure(e, method, path, Date.now() - started, hooks);
        }
        const text = await res.text();
        hooks.log(`${method} ${decodeQuery(path)} ${res.status} ${Date.now() - started}ms`);
        const contentType = res.headers.get("content-type");
        if (!res.ok) {
          const said = scrub(describeBody(text, contentType), hooks.secrets);
          throw new HttpFailure(
            res.status,
            method,
            path,
            said,
            parseRetryAfter(res.headers.get("retry-after")),
          );
        }
        const parsed =
          res.status === 204 || text === "" ? null : contentType?.includes("json") ? JSON.parse(text) : text;
        return {
          body: parsed,
          headers: Object.fromEntries(res.headers.entries()),
          status: res.status,
        } as never;
      };
    return {
      get: send("GET"),
      post: send("POST"),
      put: send("PUT"),
      patch: send("PATCH"),
      delete: send("DELETE"),
    } as Requester;
  };
}

function networkFailure(
  e: unknown,
  method: string,
  path: string,
  ms: number,
  hooks: RequesterHooks,
): HttpFailure {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const timedOut = err.name === "TimeoutError" || err.name === "AbortError";
  const code = err.cause?.code;
  // Refused or unresolvable: the request never left, so even a POST may be sent again.
  const sent = !(code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN");
  const limit = hooks.timeoutMs >= 1000 ? `${Math.round(hooks.timeoutMs / 1000)} s` : `${hooks.timeoutMs} ms`;
  // undici says "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND, a certificate error).
  const why = timedOut
    ? `no answer within ${limit}`
    : (code ?? err.cause?.message ?? err.message ?? "network error");
  hooks.log(`${method} ${decodeQuery(path)} failed after ${ms}ms (${why})`);
  return new HttpFailure(0, method, path, scrub(why, hooks.secrets), undefined, sent);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof FormData);
}

/**
 * gitbeaker's typed options are camelCase and its own requester snake_cases every key, nested ones
 * included; ours does the same so the typed methods mean what gitbeaker documents. (This is why
 * pipeline `inputs` with camelCase names would be mangled: we send `variables`, whose keys are
 * fixed: key, value, variable_type.)
 */
function decamelizeKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decamelizeKeys);
  if (!isPlainObject(v)) return v;
  return Object.fromEntries(
    Object.entries(v).map(([k, x]) => [
      k.replace(/([a-z0-9])([A-Z])/g, (_, a: string, b: string) => `${a}_${b.toLowerCase()}`),
      decamelizeKeys(x),
    ]),
  );
}

/** Rack-style query: `filter[environment_scope]=x`, arrays as `a[]=1`, keys snake_cased. */
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
  for (const [k, v] of Object.entries(decamelizeKeys(params) as Record<string, unknown>)) add(k, v);
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
