/**
 * GitLab failures: what the requester throws (HttpFailure), how the shared retry policy sees it,
 * and the one-line ForgeError a user reads. Nothing a server echoes back is trusted to be free of
 * credentials: every description is scrubbed before it is kept.
 */
import { redactTokens } from "../../core/secrets.js";
import { ForgeError, UnknownOutcomeError } from "../../errors.js";
import { bodyText } from "../body.js";
import { describeTries, type RetryableFailure, type RetryTrace } from "../retry.js";

/** One failed request, as our requester saw it (status 0: no answer). */
export class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    /** Path below /api/v4, e.g. "/projects/acme%2Fshop/variables/X". Never carries a token. */
    readonly path: string,
    /** GitLab's message (scrubbed, one line). */
    readonly description: string,
    readonly retryAfterS?: number,
    /** False only when the request provably never reached the server (connection refused, DNS). */
    readonly sent = true,
  ) {
    super(`${method} ${path}: ${status || "no answer"} ${description}`);
    this.name = "HttpFailure";
  }
}

// Header-shaped and query-shaped credentials; token shapes (GitLab's prefixes among them) are
// core/secrets.ts's one list.
const headerCredential = /\b(private-token|job-token|authorization)(\s*[:=]\s*)(?:bearer\s+)?[^\s,;"'}]+/gi;
const queryCredential = /\b(private_token|job_token|access_token)=[^&\s"']+/gi;

/** One safe line: known secrets and anything shaped like a credential replaced, length capped. */
export function scrub(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join("***");
  out = redactTokens(out.replace(headerCredential, "$1$2***").replace(queryCredential, "$1=***"), "***")
    .replace(/\s+/g, " ")
    .trim();
  return out.length > 300 ? `${out.slice(0, 297)}...` : out;
}

/** GitLab's error body → one line: `message` or `error`, objects flattened to JSON. */
export function describeBody(text: string, contentType: string | null): string {
  if (contentType?.includes("json")) {
    try {
      const body = JSON.parse(text) as { message?: unknown; error?: unknown };
      const m = body?.message ?? body?.error ?? "";
      return typeof m === "string" ? m : JSON.stringify(m);
    } catch {
      // fall through: a proxy's page or a truncated body
    }
  }
  return bodyText(text, contentType).slice(0, 500);
}

/**
 * How the shared retry policy sees a failure. Requests that create something (a pipeline) are
 * repeated only when GitLab cannot have acted: 429, or a connection that never opened.
 */
export function classify(e: unknown, idempotent: boolean): RetryableFailure | undefined {
  if (!(e instanceof HttpFailure)) return undefined;
  // "There are multiple variables with provided parameters": a 409 no retry can fix.
  if (e.status === 409 && /multiple variables/i.test(e.description)) return undefined;
  if (!idempotent && !(e.status === 429 || (e.status === 0 && !e.sent))) return undefined;
  return { status: e.status, ...(e.retryAfterS !== undefined ? { retryAfterS: e.retryAfterS } : {}) };
}

export interface CallInfo {
  /** What the request does, for messages: "change CI/CD variables". */
  what: string;
  /** The 403 explanation: "Maintainer role is needed to change CI/CD variables". */
  forbidden?: string;
  /** The explanation already names the project (the message then does not repeat it). */
  forbiddenNamesProject?: boolean;
  /** False for requests that create something: they are not repeated after an ambiguous failure. */
  idempotent?: boolean;
  /**
   * A request that changes something: when GitLab may have acted without saying so (a 5xx or no
   * answer after it was sent), the failure is UnknownOutcomeError, not a failure.
   */
  write?: boolean;
}

/** "at 04:12 UTC" for a wait of `s` seconds from now. */
function clockAfter(s: number, now = Date.now()): string {
  return `${new Date(now + s * 1000).toISOString().slice(11, 16)} UTC`;
}

/** The message a user reads, e.g. "GitLab refused: Maintainer role is needed to … on acme/shop (403)". */
export function toForgeError(
  f: HttpFailure,
  call: CallInfo,
  project: string,
  tokenSource: string,
  trace: RetryTrace = { attempts: 1, elapsedMs: 0 },
): ForgeError {
  const where = `on ${project}`;
  const said = f.description ? `: ${f.description}` : "";
  const tries = describeTries(trace);
  switch (true) {
    case f.status === 0:
      return new ForgeError("GitLab", 0, `GitLab did not answer (${call.what} ${where}; ${tries})${said}`, {
        hint: "check the network and the GitLab host (policy gitlab.url or CI_SERVER_URL)",
        sent: f.sent,
      });
    case f.status === 401:
      return new ForgeError("GitLab", 401, `GitLab refused the token from ${tokenSource} (401)${said}`, {
        hint:
          tokenSource === "CI_JOB_TOKEN"
            ? "a CI job token reaches only a few API endpoints; set OPTOUT_GITLAB_TOKEN to an access token with the api scope"
            : "the token is invalid, expired or revoked: create one with the api scope",
      });
    case f.status === 403:
      return new ForgeError(
        "GitLab",
        403,
        `GitLab refused: ${call.forbidden ?? `the token may not ${call.what}`}${call.forbiddenNamesProject ? "" : ` ${where}`} (403)`,
        { hint: `the token comes from ${tokenSource}; check its scopes and your role on ${project}` },
      );
    case f.status === 404 && /project not found/i.test(f.description):
      return new ForgeError(
        "GitLab",
        404,
        `GitLab: project ${project} not found, or the token cannot see it (404)`,
        {
          hint: 'check "repo" in the policy (or --repo): a numeric id or the full path, e.g. group/sub/project',
        },
      );
    case f.status === 429:
      // A rate limit that outlasts the retries is a failure (exit 1), like GitHub's.
      return new ForgeError(
        "GitLab",
        429,
        `GitLab rate limit: could not ${call.what} ${where} (429; ${tries})`,
        {
          hint:
            f.retryAfterS !== undefined
              ? `GitLab asked to wait ${f.retryAfterS} s, longer than optout waits in an emergency: try again after ${clockAfter(f.retryAfterS)}`
              : "GitLab did not say how long to wait: try again in a minute",
        },
      );
    case f.status >= 500:
      return new ForgeError(
        "GitLab",
        f.status,
        `GitLab failed to ${call.what} ${where} (${f.status}; ${tries})${said}`,
        { hint: "GitLab is having trouble; try again shortly" },
      );
    default:
      return new ForgeError(
        "GitLab",
        f.status,
        `GitLab refused to ${call.what} ${where}${said} (${f.status})`,
      );
  }
}

/**
 * A write GitLab did not confirm: it may have happened. Nothing is undone on that guess; the
 * flow records the outcome `unknown` and `optout sync` reads GitLab to settle it.
 */
export function unconfirmed(e: ForgeError, call: CallInfo): ForgeError | UnknownOutcomeError {
  if (!call.write || !(e.status === 0 || e.status >= 500) || !e.sent) return e;
  return new UnknownOutcomeError(`${e.message}; GitLab may have done it anyway`, {
    hint: "run `optout sync` to read from GitLab what happened and record it",
    cause: e,
  });
}
