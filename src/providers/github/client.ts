/**
 * The GitHub HTTP client: @octokit/core, imported on first use (nothing of octokit loads for
 * `--version`, `--help` or `guard`). No octokit plugins: the retry plugin ignores
 * Retry-After and the throttling plugin sleeps up to an hour and spaces writes 1 s apart. Every
 * request instead goes through the one bounded policy in ../retry.ts, with a per-attempt timeout.
 * @octokit/core (~60 ms to import here) rather than "octokit" (~160–380 ms): we need only `request`.
 */
import type { ProviderContext } from "../../core/ports.js";
import { type ForgeError, UnknownOutcomeError } from "../../errors.js";
import { defaultRetryPolicy, type RetryPolicy, type RetryTrace, withRetry } from "../retry.js";
import {
  AttemptTimeout,
  Cancelled,
  classify,
  failureOf,
  isOctokitError,
  type OctokitError,
  responseStatus,
} from "./classify.js";
import { type Failure, scrub, toForgeError } from "./errors.js";
import { resolveToken, type Token, type TokenSource } from "./token.js";

export interface CallOptions {
  /** What the request does, for a 403: "write commit statuses". */
  action: string;
  /** Statuses that are answers, not failures (404 = absent): returned, never retried. */
  accept?: readonly number[];
  /** A write that must not happen twice (a dispatch): only rate limits, which GitHub did not process, are retried. */
  once?: boolean;
  /** The message for a 404 that is not accepted (default: the repository is not visible). */
  notFound?: string;
  /** What a 403 was about (default: the repository). */
  on?: string;
  /** The caller gave up (e.g. a notification's own deadline): stop, do not retry. */
  signal?: AbortSignal;
  /**
   * A request that changes something: when GitHub may have acted without saying so (a 5xx or no
   * answer after it was sent), the failure is UnknownOutcomeError, not a failure.
   */
  write?: boolean;
}

export interface Reply<T> {
  status: number;
  data: T;
}

/** What the provider's parts use: requests, and where GitHub's web pages are. */
export interface GitHubApi {
  request<T>(route: string, params: Record<string, unknown>, opts: CallOptions): Promise<Reply<T>>;
  readonly serverUrl: string;
  /** For a GitHub App installation token: the bot it acts as. */
  bot(): Promise<{ login: string; appId: number } | undefined>;
}

type OctokitRequest = (
  route: string,
  params: Record<string, unknown>,
) => Promise<{ status: number; data: unknown }>;

const defaultTimeoutMs = 20_000;

export class GitHubClient implements GitHubApi {
  readonly apiUrl: string;
  private readonly timeoutMs: number;
  private token?: Promise<Token>;
  private octokit?: Promise<OctokitRequest>;

  constructor(private readonly ctx: ProviderContext) {
    this.apiUrl = (ctx.policy.github.apiUrl || ctx.env.GITHUB_API_URL || "https://api.github.com").replace(
      /\/+$/,
      "",
    );
    const t = Number(ctx.env.OPTOUT_HTTP_TIMEOUT_MS);
    this.timeoutMs = Number.isFinite(t) && t > 0 ? t : defaultTimeoutMs;
  }

  /** Where the token came from (never the token). */
  async tokenSource(): Promise<TokenSource> {
    return (await this.resolveToken()).source;
  }

  /** The web host for links: github.com for api.github.com, the host itself for Enterprise Server. */
  get serverUrl(): string {
    const u = new URL(this.apiUrl);
    if (u.host === "api.github.com") return "https://github.com";
    // GHE.com data residency: api.<tenant>.ghe.com serves <tenant>.ghe.com.
    if (u.host.startsWith("api.") && u.host.endsWith(".ghe.com")) return `${u.protocol}//${u.host.slice(4)}`;
    return `${u.origin}${u.pathname.replace(/\/api\/v3\/?$/, "").replace(/\/$/, "")}`;
  }

  /** This client with every request cancelled by `signal` (Ctrl-C during apply or restore). */
  bound(signal: AbortSignal | undefined): GitHubApi {
    if (!signal) return this;
    return {
      serverUrl: this.serverUrl,
      request: (route, params, opts) => this.request(route, params, { signal, ...opts }),
      bot: () => this.bot(),
    };
  }

  /** One request, retried by the shared policy; failures become ForgeError. */
  async request<T>(route: string, params: Record<string, unknown>, opts: CallOptions): Promise<Reply<T>> {
    const [method = "GET", template = ""] = route.split(" ");
    const path = fillPath(template, params);
    const request = await this.client();
    const policy = this.retryPolicy(method, path, opts.signal);
    const deadline = Date.now() + policy.budgetMs;
    const trace: RetryTrace = { attempts: 0, elapsedMs: 0 };
    try {
      return await withRetry(
        async () => {
          // An attempt never outlives the whole budget: a hang must not stretch the emergency.
          const timeoutMs = Math.max(1, Math.min(this.timeoutMs, deadline - Date.now()));
          try {
            const fetch = this.timedFetch(timeoutMs, opts.signal);
            const r = await request(route, { ...params, request: { fetch } });
            return { status: r.status, data: r.data as T };
          } catch (e) {
            const status = responseStatus(e);
            if (status !== undefined && opts.accept?.includes(status)) {
              return { status, data: (e as OctokitError).response?.data as T };
            }
            throw e;
          }
        },
        (e) => classify(e, opts.once === true),
        policy,
        trace,
      );
    } catch (e) {
      throw await this.toError(e, method, path, trace, opts);
    }
  }

  private retryPolicy(method: string, path: string, signal?: AbortSignal): RetryPolicy {
    const given = Object.fromEntries(Object.entries(this.ctx.retry ?? {}).filter(([, v]) => v !== undefined));
    return {
      ...defaultRetryPolicy,
      ...given,
      sleep: (ms) => sleep(ms, signal),
      onWait: (ms, why) =>
        this.ctx.progress(`GitHub: ${why} on ${method} ${path}; retrying in ${Math.ceil(ms / 100) / 10} s`),
    };
  }

  private resolveToken(): Promise<Token> {
    const [owner = "", repo = ""] = this.ctx.repo.split("/");
    this.token ??= resolveToken(this.ctx.env, {
      apiUrl: this.apiUrl,
      owner,
      repo,
      fetch: this.timedFetch(this.timeoutMs),
    });
    return this.token;
  }

  /** For a GitHub App installation token: the bot it acts as (`GET /user` is not for apps). */
  async bot(): Promise<{ login: string; appId: number } | undefined> {
    return (await this.resolveToken()).bot;
  }

  private client(): Promise<OctokitRequest> {
    this.octokit ??= (async () => {
      const token = await this.resolveToken();
      const { Octokit } = await import("@octokit/core");
      const octokit = new Octokit({
        auth: token.value,
        baseUrl: this.apiUrl,
        userAgent: "optout",
        // Pin the REST API version so a future default does not change answers under us.
        headers: { "x-github-api-version": "2022-11-28" },
        log: {
          debug: () => {},
          info: () => {},
          warn: (m: string) => this.ctx.warn(scrub(m, [token.value])),
          error: () => {},
        },
      });
      return octokit.request as unknown as OctokitRequest;
    })();
    return this.octokit;
  }

  /** fetch with a timeout covering headers and body, logging "GET /repos/acme/shop 200 41ms". */
  private timedFetch(timeoutMs: number, cancel?: AbortSignal): typeof fetch {
    return async (input, init) => {
      if (cancel?.aborted) throw new Cancelled();
      const url = input instanceof Request ? input.url : String(input);
      const method = init?.method ?? "GET";
      const started = performance.now();
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), timeoutMs);
      const stop = () => ac.abort();
      cancel?.addEventListener("abort", stop);
      const log = (what: string) =>
        this.ctx.log(`${method} ${this.logPath(url)} ${what} ${Math.round(performance.now() - started)}ms`);
      try {
        const res = await fetch(url, { ...init, signal: ac.signal });
        // The body is read inside the timeout too: headers then silence is a hang as well.
        const body = await res.arrayBuffer();
        log(String(res.status));
        const empty = res.status === 204 || res.status === 205 || res.status === 304;
        return new Response(empty ? null : body, {
          status: res.status,
          statusText: res.statusText,
          headers: res.headers,
        });
      } catch (e) {
        if (cancel?.aborted) {
          log("cancelled");
          throw new Cancelled();
        }
        if (ac.signal.aborted) {
          log("timeout");
          throw new AttemptTimeout(timeoutMs);
        }
        log("network-error");
        throw e;
      } finally {
        clearTimeout(timer);
        cancel?.removeEventListener("abort", stop);
      }
    };
  }

  /** Path only: no host, no query string (it may carry values we do not want in logs). */
  private logPath(url: string): string {
    try {
      const base = new URL(this.apiUrl).pathname.replace(/\/$/, "");
      const p = new URL(url).pathname;
      return base && p.startsWith(base) ? p.slice(base.length) || "/" : p;
    } catch {
      return "?";
    }
  }

  private async toError(e: unknown, method: string, path: string, trace: RetryTrace, opts: CallOptions) {
    if (!isOctokitError(e)) return e;
    const token = await this.resolveToken().catch(() => undefined);
    const failure = failureOf(e, method, path, trace);
    const err = this.forgeError(failure, opts, token);
    const maybeDone = err.status === 0 || err.status >= 500;
    if (!opts.write || !maybeDone || !err.sent || failure.cancelled) return err;
    // GitHub may have done it: nothing is undone on a guess; `optout sync` reads what happened.
    return new UnknownOutcomeError(`${err.message}; GitHub may have done it anyway`, {
      hint: "run `optout sync` to read from GitHub what happened and record it",
      cause: err,
    });
  }

  private forgeError(failure: Failure, opts: CallOptions, token: Token | undefined): ForgeError {
    return toForgeError(failure, {
      action: opts.action,
      on: opts.on ?? this.ctx.repo,
      ...(opts.notFound ? { notFound: opts.notFound } : {}),
      ...(token ? { tokenSource: token.source } : {}),
      secrets: token ? [token.value] : [],
      apiUrl: this.apiUrl,
    });
  }
}

/** Waits `ms`, or stops at once (rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error("aborted"));
    const stop = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error("aborted"));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", stop);
      resolve();
    }, ms);
    signal?.addEventListener("abort", stop, { once: true });
  });
}

/** `/repos/{owner}/{repo}/statuses/{sha}` with params → `/repos/acme/shop/statuses/3f2a…`. */
export function fillPath(template: string, params: Record<string, unknown>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(params[name] ?? "")));
}
