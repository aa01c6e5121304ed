/**
 * What a failed octokit request means for the retry policy and for the message: its status (0
 * when no response came: network error, timeout, cancel), a Retry-After or a rate-limit reset.
 */
import { bodyText } from "../body.js";
import { parseRetryAfter, type RetryableFailure, type RetryTrace } from "../retry.js";
import type { Failure } from "./errors.js";

/** The fields of octokit's RequestError we read (duck-typed: no import of octokit needed). */
export interface OctokitError {
  status: number;
  message: string;
  response?: { headers: Record<string, string | number | undefined>; data: unknown };
  cause?: unknown;
}

/** An attempt that got no answer within its timeout. */
export class AttemptTimeout extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = "AttemptTimeout";
  }
}

/** The caller gave up (Ctrl-C, a notification deadline). */
export class Cancelled extends Error {
  constructor() {
    super("cancelled");
    this.name = "Cancelled";
  }
}

export function isOctokitError(e: unknown): e is OctokitError {
  return e instanceof Error && typeof (e as Partial<OctokitError>).status === "number";
}

export function responseStatus(e: unknown): number | undefined {
  return isOctokitError(e) && e.response ? e.status : undefined;
}

function header(e: OctokitError, name: string): string | undefined {
  const v = e.response?.headers[name];
  return v === undefined ? undefined : String(v);
}

function retryAfterS(e: OctokitError): number | undefined {
  return parseRetryAfter(header(e, "retry-after"));
}

/** A rate limit: 429, or a 403 with Retry-After (secondary limit) or no requests left (primary). */
function rateLimit(e: OctokitError): { retryAfterS?: number; resetAt?: Date } | undefined {
  if (e.status !== 429 && e.status !== 403) return undefined;
  const after = retryAfterS(e);
  if (after !== undefined) return { retryAfterS: after };
  if (header(e, "x-ratelimit-remaining") === "0") {
    const reset = Number(header(e, "x-ratelimit-reset"));
    if (!Number.isFinite(reset)) return e.status === 429 ? {} : { retryAfterS: 60 };
    return {
      resetAt: new Date(reset * 1000),
      retryAfterS: Math.max(0, Math.ceil(reset - Date.now() / 1000)),
    };
  }
  return e.status === 429 ? {} : undefined;
}

export function classify(e: unknown, once: boolean): RetryableFailure | undefined {
  if (!isOctokitError(e)) return undefined;
  if (!e.response) return once || e.cause instanceof Cancelled ? undefined : { status: 0 };
  const limit = rateLimit(e);
  // A rate-limited request was not processed, so even a write that must not repeat is retried.
  if (limit)
    return { status: 429, ...(limit.retryAfterS !== undefined ? { retryAfterS: limit.retryAfterS } : {}) };
  if (once) return undefined;
  return { status: e.status };
}

/** Connection refused or a name that does not resolve: the request never reached GitHub. */
function neverLeft(e: unknown): boolean {
  for (let c: unknown = e, depth = 0; c && depth < 5; c = (c as { cause?: unknown }).cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN") return true;
  }
  return false;
}

export function failureOf(e: OctokitError, method: string, path: string, trace: RetryTrace): Failure {
  const attempts = trace.attempts;
  if (!e.response) {
    const timeout = e.cause instanceof AttemptTimeout ? e.cause.ms : undefined;
    return {
      sent: !neverLeft(e),
      method,
      path,
      status: 0,
      message: e.message,
      ...(e.cause instanceof Cancelled ? { cancelled: true } : {}),
      attempts,
      elapsedMs: trace.elapsedMs,
      ...(timeout !== undefined ? { timedOutAfterMs: timeout } : {}),
    };
  }
  const data = e.response.data as { message?: unknown } | string | ArrayBuffer | undefined;
  const contentType = header(e, "content-type");
  const message =
    typeof data === "string"
      ? bodyText(data, contentType)
      : data instanceof ArrayBuffer
        ? bodyText(new TextDecoder().decode(data), contentType)
        : typeof data?.message === "string"
          ? data.message
          : bodyText(e.message, contentType);
  const limit = rateLimit(e);
  return {
    method,
    path,
    status: e.status,
    message,
    attempts,
    elapsedMs: trace.elapsedMs,
    ...(limit ? { rateLimit: limit } : {}),
  };
}
