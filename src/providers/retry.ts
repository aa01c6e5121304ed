/**
 * The one retry policy and the one Retry-After parser. Both forge clients run every request
 * through `withRetry` (octokit's own retry and throttling plugins are not used); notifications
 * (notify/deliver.ts) and ledger pushes (ledger/store.ts) use `backoffMs` and `parseRetryAfter`
 * with their own, shorter budgets. Retried: 5xx, 409 (GitLab status races), 429 and network
 * errors, with jittered backoff; Retry-After is honoured up to a ceiling, and the whole logical
 * request never outlasts its budget. An emergency tool waits about a minute, then fails clearly,
 * saying how many attempts it made and for how long.
 */
export interface RetryableFailure {
  /** HTTP status, or 0 for a network error / timeout. */
  status: number;
  /** Seconds the server asked us to wait (Retry-After or rate-limit reset), if it said. */
  retryAfterS?: number;
}

export interface RetryPolicy {
  /** Total time budget for one logical request, retries included. Default 60 s. */
  budgetMs: number;
  /** At most this many attempts. Default 5. */
  maxAttempts: number;
  /** Longest single wait we accept from Retry-After. Default 60 s. */
  maxRetryAfterMs: number;
  /** Told before each wait (the CLI prints it: "GitHub asked us to wait 20 s (429)…"). */
  onWait?: (ms: number, why: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

/** What a logical request cost, filled in by `withRetry` (also when it throws). */
export interface RetryTrace {
  attempts: number;
  elapsedMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  budgetMs: 60_000,
  maxAttempts: 5,
  maxRetryAfterMs: 60_000,
};

export function isRetryable(status: number): boolean {
  return status === 0 || status === 409 || status === 429 || status >= 500;
}

/**
 * Retry-After in seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when
 * absent or unreadable. A date in the past is 0.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

export interface Backoff {
  /** The first wait before jitter; each later one doubles. */
  baseMs: number;
  capMs: number;
  /**
   * "equal": half fixed, half random (a client retrying one server); "full": anywhere from 0 to
   * the step (many writers racing for one ref spread out instead of colliding again).
   */
  jitter: "equal" | "full";
}

/** The wait before attempt `n + 1`, after `n` failed attempts (n ≥ 1). */
export function backoffMs(n: number, b: Backoff, random: () => number = Math.random): number {
  const step = Math.min(b.capMs, b.baseMs * 2 ** Math.min(Math.max(0, n - 1), 20));
  return b.jitter === "full" ? Math.floor(random() * step) : Math.floor(step / 2 + random() * (step / 2));
}

const forgeBackoff: Backoff = { baseMs: 250, capMs: 8_000, jitter: "equal" };

/** "1 attempt" / "3 attempts over 4.2 s": what a message says a request cost. */
export function describeTries(t: RetryTrace): string {
  const tries = `${t.attempts} attempt${t.attempts === 1 ? "" : "s"}`;
  if (t.attempts <= 1) return tries;
  const s = t.elapsedMs >= 10_000 ? String(Math.round(t.elapsedMs / 1000)) : (t.elapsedMs / 1000).toFixed(1);
  return `${tries} over ${s} s`;
}

/**
 * Runs `attempt` until it succeeds, a failure is not retryable, or the budget is spent.
 * `classify` turns a thrown error into a RetryableFailure, or undefined when it must not be
 * retried. `trace`, when given, is kept up to date for the caller's message.
 */
export async function withRetry<T>(
  attempt: () => Promise<T>,
  classify: (e: unknown) => RetryableFailure | undefined,
  policy: Partial<RetryPolicy> = {},
  trace: RetryTrace = { attempts: 0, elapsedMs: 0 },
): Promise<T> {
  const p = { ...defaultRetryPolicy, ...definedOnly(policy) };
  const sleep = p.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = Date.now();
  const deadline = started + p.budgetMs;
  for (let n = 1; ; n++) {
    trace.attempts = n;
    try {
      return await attempt();
    } catch (e) {
      trace.elapsedMs = Date.now() - started;
      const f = classify(e);
      if (!f || !isRetryable(f.status) || n >= p.maxAttempts) throw e;
      let wait = backoffMs(n, forgeBackoff);
      if (f.retryAfterS !== undefined) {
        const asked = f.retryAfterS * 1000;
        // Asked to wait longer than we will: fail now rather than hang an emergency.
        if (asked > p.maxRetryAfterMs) throw e;
        wait = Math.max(wait, asked);
      }
      if (Date.now() + wait > deadline) throw e;
      p.onWait?.(wait, f.status === 0 ? "network error" : `HTTP ${f.status}`);
      await sleep(wait);
    }
  }
}

/** A policy given as `{ budgetMs: undefined }` keeps the default rather than NaN deadlines. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
