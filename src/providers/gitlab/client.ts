/**
 * The one GitLab client: credentials found once (credentials.ts), each logical request retried
 * by the shared policy (../retry.ts) over single attempts (http.ts), failures mapped to one
 * ForgeError, and a write GitLab did not confirm reported as UnknownOutcomeError.
 *
 * No GitLab client library: @gitbeaker/rest was kept for a while only to build URLs, while its
 * request handler (a hard-coded retry loop that ignores Retry-After) had to be replaced, its
 * typed methods put `filter[environment_scope]` in the body where GitLab wants the query, and
 * its camelCase → snake_case renaming would mangle pipeline `inputs`. The dozen endpoints optout
 * uses are written out in api.ts, each with its documentation page.
 */
import type { Policy } from "../../core/policy.js";
import type { ProviderContext } from "../../core/ports.js";
import { NotAllowedError } from "../../errors.js";
import { type RetryTrace, withRetry } from "../retry.js";
import { type Credentials, resolveCredentials, type TokenSource } from "./credentials.js";
import { type CallInfo, classify, HttpFailure, toForgeError, unconfirmed } from "./errors.js";
import { createHttp, type Http } from "./http.js";

export type { TokenSource } from "./credentials.js";

/** Host: policy gitlab.url > CI_SERVER_URL > https://gitlab.com. */
export function gitlabHost(policy: Policy, env: Record<string, string | undefined>): string {
  return (policy.gitlab.url || env.CI_SERVER_URL || "https://gitlab.com").replace(/\/+$/, "");
}

export interface CallOptions extends CallInfo {
  /** Failures that are an answer (usually a 404): `call` resolves to undefined. */
  absent?: (f: HttpFailure) => boolean;
  /** The caller's own deadline: once aborted, nothing is retried. */
  signal?: AbortSignal | undefined;
  /**
   * A better 403 explanation, worked out only when GitLab refuses (e.g. a Developer on a
   * protected branch must not be told the Developer role is needed).
   */
  explainForbidden?: () => Promise<string | undefined>;
}

export interface ClientOptions {
  /** Per-request timeout (default: OPTOUT_HTTP_TIMEOUT_MS, else 20 s). */
  requestTimeoutMs?: number;
}

export class GitLabClient {
  readonly host: string;
  private readonly timeoutMs: number;
  private credentials: Promise<Credentials | undefined> | undefined;
  private http: Http | undefined;

  constructor(
    private readonly ctx: ProviderContext,
    options: ClientOptions = {},
  ) {
    this.host = gitlabHost(ctx.policy, ctx.env);
    const fromEnv = Number(ctx.env.OPTOUT_HTTP_TIMEOUT_MS);
    this.timeoutMs = options.requestTimeoutMs ?? (Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 20_000);
  }

  /** Where the token comes from (never the token), or null when there is none. */
  async tokenSource(): Promise<TokenSource | null> {
    return (await this.resolve())?.source ?? null;
  }

  /** How the token is sent (private, bearer, job), or null when there is none. */
  async tokenScheme(): Promise<Credentials["scheme"] | null> {
    return (await this.resolve())?.scheme ?? null;
  }

  private resolve(): Promise<Credentials | undefined> {
    this.credentials ??= resolveCredentials(this.ctx.env, this.host);
    return this.credentials;
  }

  /**
   * One logical request: retried by the shared policy, then mapped to a ForgeError. With
   * `absent`, a matching failure (usually a 404) is an answer and resolves to undefined.
   */
  async call<T>(info: CallOptions, fn: (http: Http) => Promise<T>): Promise<T | undefined> {
    const cred = await this.resolve();
    if (!cred) {
      throw new NotAllowedError(
        `no GitLab token: set OPTOUT_GITLAB_TOKEN (or GITLAB_TOKEN) to ${info.what}`,
        {
          hint: "create a personal, project or group access token with the api scope, or log in with `glab auth login`",
        },
      );
    }
    this.http ??= createHttp({
      apiRoot: `${this.host}/api/v4`,
      timeoutMs: this.timeoutMs,
      log: this.ctx.log,
      credentials: cred,
    });
    const http = this.http;
    const trace: RetryTrace = { attempts: 0, elapsedMs: 0 };
    try {
      return await withRetry(
        () => fn(http),
        // A caller that gave up (its signal aborted) gets no more attempts.
        (e) => (info.signal?.aborted ? undefined : classify(e, info.idempotent !== false)),
        {
          ...this.ctx.retry,
          onWait: (ms, why) =>
            this.ctx.progress(`GitLab answered ${why}; retrying in ${Math.ceil(ms / 1000)} s`),
        },
        trace,
      );
    } catch (e) {
      if (!(e instanceof HttpFailure)) throw e;
      if (info.absent?.(e)) return undefined;
      const better =
        e.status === 403 && info.explainForbidden
          ? await info.explainForbidden().catch(() => undefined)
          : undefined;
      const call = better ? { ...info, forbidden: better, forbiddenNamesProject: true } : info;
      throw unconfirmed(toForgeError(e, call, this.ctx.repo, cred.source, trace), call);
    }
  }

  /** Like `call`, for requests whose answer is never "absent". */
  async must<T>(info: Omit<CallOptions, "absent">, fn: (http: Http) => Promise<T>): Promise<T> {
    return (await this.call(info, fn)) as T;
  }
}
