/**
 * The one GitLab client. @gitbeaker/rest's resource classes build the endpoints; it is imported
 * on first use only (~100 ms), so `--version`, `--help` and `guard` never load it.
 *
 * Every request goes through our own `requesterFn`, never gitbeaker's: its request handler has a
 * hard-coded loop (429 and 502 only, 10 tries within ~750 ms, Retry-After ignored, other 5xx and
 * network errors not retried) that no option turns off. The resource classes take `requesterFn`
 * from the caller's options over their preset, so ours makes exactly one attempt per call, with a
 * per-request timeout (`queryTimeout`), logs it, and throws an HttpFailure; `call` wraps each
 * logical request in the shared retry policy (src/providers/retry.ts).
 */
import type { Policy } from "../../core/policy.js";
import type { ProviderContext } from "../../core/ports.js";
import { NotAllowedError } from "../../errors.js";
import { type RetryTrace, withRetry } from "../retry.js";
import { type CallInfo, classify, HttpFailure, toForgeError } from "./errors.js";
import { makeRequesterFn, type Requester } from "./requester.js";

type Rest = typeof import("@gitbeaker/rest");

export type TokenSource = "OPTOUT_GITLAB_TOKEN" | "GITLAB_TOKEN" | "CI_JOB_TOKEN";
const tokenSources: readonly TokenSource[] = ["OPTOUT_GITLAB_TOKEN", "GITLAB_TOKEN", "CI_JOB_TOKEN"];

/** Host: policy gitlab.url > CI_SERVER_URL > https://gitlab.com (cli.md, Credentials). */
export function gitlabHost(policy: Policy, env: Record<string, string | undefined>): string {
  return (policy.gitlab.url || env.CI_SERVER_URL || "https://gitlab.com").replace(/\/+$/, "");
}

/** Token: OPTOUT_GITLAB_TOKEN > GITLAB_TOKEN > CI_JOB_TOKEN (sent as JOB-TOKEN). */
export function gitlabToken(
  env: Record<string, string | undefined>,
): { token: string; source: TokenSource } | undefined {
  for (const source of tokenSources) {
    const token = env[source]?.trim();
    if (token) return { token, source };
  }
  return undefined;
}

/** The resources we use, built once per client. `raw` is for requests gitbeaker types awkwardly. */
export interface Api {
  users: InstanceType<Rest["Users"]>;
  projects: InstanceType<Rest["Projects"]>;
  projectMembers: InstanceType<Rest["ProjectMembers"]>;
  groupMembers: InstanceType<Rest["GroupMembers"]>;
  commits: InstanceType<Rest["Commits"]>;
  variables: InstanceType<Rest["ProjectVariables"]>;
  pipelines: InstanceType<Rest["Pipelines"]>;
  deployments: InstanceType<Rest["Deployments"]>;
  raw: Requester;
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
  private readonly credentials: { token: string; source: TokenSource } | undefined;
  private readonly timeoutMs: number;
  private api: Promise<Api> | undefined;

  constructor(
    private readonly ctx: ProviderContext,
    options: ClientOptions = {},
  ) {
    this.host = gitlabHost(ctx.policy, ctx.env);
    this.credentials = gitlabToken(ctx.env);
    const fromEnv = Number(ctx.env.OPTOUT_HTTP_TIMEOUT_MS);
    this.timeoutMs = options.requestTimeoutMs ?? (Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 20_000);
  }

  tokenSource(): TokenSource | null {
    return this.credentials?.source ?? null;
  }

  /**
   * One logical request: retried by the shared policy, then mapped to a ForgeError. With
   * `absent`, a matching failure (usually a 404) is an answer and resolves to undefined.
   */
  async call<T>(info: CallOptions, fn: (api: Api) => Promise<T>): Promise<T | undefined> {
    const cred = this.credentials;
    if (!cred) {
      throw new NotAllowedError(
        `no GitLab token: set OPTOUT_GITLAB_TOKEN (or GITLAB_TOKEN) to ${info.what}`,
        {
          hint: "create a personal, project or group access token with the api scope",
        },
      );
    }
    const api = await this.load(cred);
    const trace: RetryTrace = { attempts: 0, elapsedMs: 0 };
    try {
      return await withRetry(
        () => fn(api),
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
      throw toForgeError(
        e,
        better ? { ...info, forbidden: better, forbiddenNamesProject: true } : info,
        this.ctx.repo,
        cred.source,
        trace,
      );
    }
  }

  /** Like `call`, for requests whose answer is never "absent". */
  async must<T>(info: Omit<CallOptions, "absent">, fn: (api: Api) => Promise<T>): Promise<T> {
    return (await this.call(info, fn)) as T;
  }

  /** A per-request timeout joined with the caller's own signal, for raw requests. */
  signal(caller?: AbortSignal): AbortSignal {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    return caller ? AbortSignal.any([caller, timeout]) : timeout;
  }

  private load(cred: { token: string; source: TokenSource }): Promise<Api> {
    this.api ??= (async () => {
      const rest = await import("@gitbeaker/rest");
      const requesterFn = makeRequesterFn({
        apiRoot: `${this.host}/api/v4`,
        timeoutMs: this.timeoutMs,
        log: this.ctx.log,
        secrets: [cred.token],
      });
      // A CI job token goes in the JOB-TOKEN header (gitbeaker's `jobToken`), any other in PRIVATE-TOKEN.
      const auth = cred.source === "CI_JOB_TOKEN" ? { jobToken: cred.token } : { token: cred.token };
      const options = { host: this.host, ...auth, requesterFn, queryTimeout: this.timeoutMs };
      const users = new rest.Users(options);
      return {
        users,
        projects: new rest.Projects(options),
        projectMembers: new rest.ProjectMembers(options),
        groupMembers: new rest.GroupMembers(options),
        commits: new rest.Commits(options),
        variables: new rest.ProjectVariables(options),
        pipelines: new rest.Pipelines(options),
        deployments: new rest.Deployments(options),
        raw: users.requester,
      };
    })();
    return this.api;
  }
}
