/**
 * One bounded retry policy for every forge request (octokit's and gitbeaker's own are replaced):
 * retry 5xx, 409 (GitLab status races), 429 and network errors with jittered backoff; honour
 * Retry-After up to a ceiling, saying so; never wait longer than the budget in total. An
 * emergency tool waits about a minute, then fails clearly.
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

export const defaultRetryPolicy: RetryPolicy = {
  budgetMs: 60_000,
  maxAttempts: 5,
  maxRetryAfterMs: 60_000,
};

export function isRetryable(status: number): boolean {
  return status === 0 || status === 409 || status === 429 || status >= 500;
}

/**
 * Runs `attempt` until it succeeds, a failure is not retryable, or the budget is spent.
 * `classify` turns a thrown error into a RetryableFailure, or undefined when it must not be retried.
 */
export async function withRetry<T>(
  attempt: () => Promise<T>,
  classify: (e: unknown) => RetryableFailure | undefined,
  policy: Partial<RetryPolicy> = {},
): Promise<T> {
  const p = { ...defaultRetryPolicy, ...policy };
  const sleep = p.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = Date.now() + p.budgetMs;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (e) {
      const f = classify(e);
      if (!f || !isRetryable(f.status) || n >= p.maxAttempts) throw e;
      let wait = Math.min(8_000, 250 * 2 ** (n - 1));
      wait = Math.floor(wait / 2 + Math.random() * (wait / 2));
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
