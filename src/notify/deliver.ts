/**
 * One HTTP delivery with bounded retries. An announcement must never hold up an emergency: each
 * attempt is cut off at the channel timeout, retries are few and short, and the whole delivery has
 * a fixed budget (timeout × attempts + backoff) that a server's Retry-After cannot stretch.
 */
import { backoffMs, parseRetryAfter } from "../providers/retry.js";
import { redact } from "../ui/redact.js";
import { inertLine } from "../ui/text.js";

export interface PostRequest {
  url: string;
  headers: Record<string, string>;
  /** The exact bytes sent (and, for the webhook, signed): identical on every attempt. */
  body: Uint8Array;
}

export interface DeliveryOptions {
  /** Channel name for log lines ("slack", "webhook#2"). */
  label: string;
  timeoutMs: number;
  retries: number;
  /** Values that must never appear in an error or log line: the URL, the secret. */
  secrets: string[];
  env: Record<string, string | undefined>;
  log?: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

export interface Delivery {
  ok: boolean;
  attempts: number;
  error?: string;
}

interface Attempt {
  ok: boolean;
  retryable: boolean;
  /** "HTTP 500", "timed out after 300 ms", "network error (ECONNREFUSED)". */
  what: string;
  retryAfterMs?: number;
}

/** Each backoff is at most this long; the budget reserves it per retry. */
export const maxBackoffMs = 1000;

/** The most a delivery can take, so callers (and tests) can reason about the bound. */
export function budgetMs(timeoutMs: number, retries: number): number {
  return timeoutMs * (retries + 1) + retries * maxBackoffMs;
}

/**
 * The parts of a URL that are credentials: user info and query values always; the path too when
 * it is the secret itself, as in a Slack webhook (`/services/T…/B…/<token>`).
 */
export function secretParts(raw: string, pathIsSecret: boolean): string[] {
  const parts = [raw];
  try {
    const u = new URL(raw);
    parts.push(u.href);
    if (pathIsSecret && u.pathname.length > 1) parts.push(u.pathname);
    if (u.password) parts.push(u.password);
    for (const v of u.searchParams.values()) parts.push(v);
  } catch {
    // Not a URL: the raw value is all there is to hide.
  }
  return parts.filter((p) => p.length >= 4);
}

export function scrub(text: string, secrets: string[], env: Record<string, string | undefined>): string {
  let out = text;
  // Longest first, so a URL is replaced whole before its path would leave a host behind.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join("***");
  return redact(out, env);
}

/** A short, safe detail from an error response (Slack says "invalid_blocks", "no_service"). */
async function detailOf(res: Response): Promise<string> {
  const type = res.headers.get("content-type") ?? "";
  if (!/^(text\/plain|application\/json)/i.test(type)) {
    await res.body?.cancel().catch(() => {});
    return "";
  }
  const text = inertLine((await res.text()).trim());
  return text ? `: ${text.length > 120 ? `${text.slice(0, 119)}…` : text}` : "";
}

async function attempt(req: PostRequest, timeoutMs: number): Promise<Attempt> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(req.url, {
      method: "POST",
      headers: req.headers,
      body: req.body,
      signal,
      // A redirect would carry the signed payload somewhere the policy never named.
      redirect: "manual",
    });
    const status = res.status;
    if (status >= 200 && status < 300) {
      await res.body?.cancel().catch(() => {});
      return { ok: true, retryable: false, what: `HTTP ${status}` };
    }
    const retryable = status === 429 || status >= 500;
    const retryAfterS = retryable ? parseRetryAfter(res.headers.get("retry-after")) : undefined;
    const retryAfterMs = retryAfterS === undefined ? undefined : retryAfterS * 1000;
    const detail = await detailOf(res).catch(() => "");
    const redirect = status >= 300 && status < 400 ? " (redirects are not followed)" : "";
    return {
      ok: false,
      retryable,
      what: `HTTP ${status}${redirect}${detail}`,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  } catch (e) {
    if (signal.aborted) return { ok: false, retryable: true, what: `timed out after ${timeoutMs} ms` };
    // undici wraps the socket error in `cause`; its code says enough, its message names the host.
    const code = (e as { cause?: { code?: unknown } }).cause?.code;
    return {
      ok: false,
      retryable: true,
      what: typeof code === "string" ? `network error (${code})` : "network error",
    };
  }
}

function backoff(n: number): number {
  return backoffMs(n, { baseMs: 200, capMs: maxBackoffMs, jitter: "equal" });
}

export async function postWithRetry(req: PostRequest, o: DeliveryOptions): Promise<Delivery> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const clean = (s: string) => scrub(s, o.secrets, o.env);
  const deadline = Date.now() + budgetMs(o.timeoutMs, o.retries);
  let last = "not attempted";
  let n = 0;
  while (n <= o.retries) {
    const timeout = Math.min(o.timeoutMs, deadline - Date.now());
    if (timeout <= 0) break;
    n++;
    const started = Date.now();
    const r = await attempt(req, timeout);
    o.log?.(clean(`notify ${o.label}: attempt ${n} → ${r.what} (${Date.now() - started} ms)`));
    if (r.ok) return { ok: true, attempts: n };
    last = r.what;
    if (!r.retryable || n > o.retries) break;
    let wait = backoff(n);
    if (r.retryAfterMs !== undefined) {
      // Honour a short Retry-After; a long one would outlast the budget, so give up now.
      if (Date.now() + r.retryAfterMs >= deadline) {
        last = `${r.what} (asked to retry after ${Math.ceil(r.retryAfterMs / 1000)} s, beyond the time budget)`;
        break;
      }
      wait = Math.max(wait, r.retryAfterMs);
    }
    if (Date.now() + wait >= deadline) break;
    await sleep(wait);
  }
  return { ok: false, attempts: n, error: clean(last) };
}
