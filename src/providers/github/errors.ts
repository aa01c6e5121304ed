/**
 * Turning a failed GitHub request into one clear ForgeError. Everything GitHub said is scrubbed
 * before it is forwarded: octokit's errors carry the request (headers included), and a response
 * body may echo what was sent, so no token or Authorization value may survive into a message —
 * messages are printed, and a failed apply's message is written into the signed audit record.
 */
import { redactTokens } from "../../core/secrets.js";
import { ForgeError } from "../../errors.js";
import { describeTries } from "../retry.js";
import type { TokenSource } from "./token.js";

const authValues = /\b(authorization|proxy-authorization)(["']?\s*[:=]\s*["']?)[^"',}\n]+/gi;
const schemes = /\b(bearer|token|basic)\s+[A-Za-z0-9._~+/=-]{12,}/gi;
// Control characters (and so terminal escape sequences) from a forge never reach a terminal.
const controls = /[\u0000-\u001f\u007f-\u009f]+/g;

/** `text` with every secret, token-shaped string and auth header value replaced, on one line. */
export function scrub(text: string, secrets: readonly string[], max = 300): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join("***");
  out = redactTokens(out, "***")
    .replace(authValues, "$1$2***")
    .replace(schemes, "$1 ***")
    .replace(controls, " ")
    .trim();
  const chars = [...out];
  return chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : out;
}

/** What a failed request looked like once retries gave up. */
export interface Failure {
  method: string;
  /** Path only (no host, no query). */
  path: string;
  /** HTTP status; 0 when no response came. */
  status: number;
  /** GitHub's `message` (or the network error's), unscrubbed. */
  message: string;
  timedOutAfterMs?: number;
  /** The caller gave up before GitHub answered. */
  cancelled?: boolean;
  /** Rate limit: when it resets, or how long GitHub asked us to wait. */
  rateLimit?: { resetAt?: Date; retryAfterS?: number };
  attempts: number;
  /** Time from the first attempt to the last failure. */
  elapsedMs?: number;
  /** False when the request provably never reached GitHub. */
  sent?: boolean;
}

export interface FailureContext {
  /** "write commit statuses" */
  action: string;
  /** "acme/shop" (or "team acme/oncall") */
  on: string;
  notFound?: string;
  tokenSource?: TokenSource;
  secrets: readonly string[];
  apiUrl: string;
}

export function toForgeError(f: Failure, c: FailureContext): ForgeError {
  const said = f.message ? scrub(f.message, c.secrets) : "";
  const saidHint = said ? `GitHub said: "${said}"` : undefined;
  const make = (message: string, hint?: string) =>
    new ForgeError("GitHub", f.status, message, { ...(hint ? { hint } : {}), sent: f.sent ?? true });
  const where = `${f.method} ${f.path}`;
  const tries = describeTries({ attempts: f.attempts, elapsedMs: f.elapsedMs ?? 0 });
  if (f.status === 0) {
    if (f.cancelled) return make(`GitHub: ${where} was cancelled before GitHub answered`);
    if (f.timedOutAfterMs !== undefined) {
      return make(
        `GitHub did not answer ${where} within ${seconds(f.timedOutAfterMs)} (${tries})`,
        `check that ${c.apiUrl} is reachable; https://www.githubstatus.com says whether GitHub is down`,
      );
    }
    return make(
      `cannot reach GitHub at ${c.apiUrl}: ${said || "network error"}`,
      "check the network, a proxy, or GITHUB_API_URL",
    );
  }
  if (f.rateLimit) {
    const reset =
      f.rateLimit.resetAt ??
      (f.rateLimit.retryAfterS !== undefined
        ? new Date(Date.now() + f.rateLimit.retryAfterS * 1000)
        : undefined);
    const when = reset
      ? `it resets at ${reset.toISOString().slice(11, 16)} UTC`
      : "GitHub did not say when it resets";
    // GitHub signals a rate limit with 403 or 429; either way it is the same condition and the
    // same exit code (1), not a permission problem.
    return new ForgeError(
      "GitHub",
      429,
      `GitHub rate limit reached on ${where} (${f.status}; ${tries}); ${when}, longer than optout waits in an emergency`,
      {
        hint: "try again then, or use a token with its own rate limit (a GitHub App installation or another user's)",
      },
    );
  }
  switch (f.status) {
    case 401:
      return make(
        "GitHub: the token was rejected (401)",
        c.tokenSource
          ? `it came from ${c.tokenSource}; check it has not expired or been revoked`
          : "check the token has not expired or been revoked",
      );
    case 403:
      return make(`GitHub refused: token lacks permission to ${c.action} on ${c.on} (403)`, saidHint);
    case 404:
      return make(
        c.notFound ?? `GitHub: repository ${c.on} not found or the token cannot see it (404)`,
        saidHint,
      );
    case 409:
    case 422:
      return make(`GitHub rejected ${where}: ${said || "unprocessable"} (${f.status})`);
    default:
      if (f.status >= 500) {
        return make(
          `GitHub failed: ${where} answered ${f.status} (${tries})`,
          "https://www.githubstatus.com says whether GitHub is having trouble; try again shortly",
        );
      }
      return make(`GitHub: ${where} answered ${f.status}${said ? `: ${said}` : ""}`);
  }
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}
