/**
 * The notifier: fans an event out to every channel of the policy at once. A channel that is
 * misconfigured, slow or down fails alone and says why; `announce` never throws, because an
 * announcement failing must not undo or hide an override that already happened.
 */
import { randomUUID } from "node:crypto";
import type { NotifyChannel } from "../core/policy.js";
import type { NotificationResult, NotifierPort, NotifyEvent } from "../core/ports.js";
import type { Actor, RecordDraft } from "../core/record.js";
import { budgetMs, postWithRetry, scrub, secretParts } from "./deliver.js";
import { issueMarkdown } from "./issue.js";
import { summarize } from "./message.js";
import { slackMessage } from "./slack.js";
import { sign, signatureHeader, userAgent, webhookBody, webhookHeaders } from "./webhook.js";

export type IssueCommenter = (issue: number, markdown: string, signal?: AbortSignal) => Promise<void>;

export interface NotifierOptions {
  channels: NotifyChannel[];
  env: Record<string, string | undefined>;
  /** Posts a comment on the forge (GitHub/GitLab providers); absent for plain git. */
  issueCommenter?: IssueCommenter;
  /** Per attempt, per channel. Default 5000. */
  timeoutMs?: number;
  /** Extra attempts after the first. Default 2. */
  retries?: number;
  /** --verbose lines; never carry a URL or secret. */
  log?: (line: string) => void;
}

export const noIssueProvider = "issue comments need a GitHub or GitLab provider";

/** `slack`, `webhook`, `issue`; a repeated type gets `#2`, `#3` so results stay distinguishable. */
export function channelNames(channels: NotifyChannel[]): string[] {
  const seen = new Map<string, number>();
  return channels.map((c) => {
    const n = (seen.get(c.type) ?? 0) + 1;
    seen.set(c.type, n);
    return n === 1 ? c.type : `${c.type}#${n}`;
  });
}

function isHttpUrl(raw: string): boolean {
  try {
    const u = new URL(raw);
    return u.protocol === "https:" || u.protocol === "http:";
  } catch {
    return false;
  }
}

/** The webhook URL for a dry run: credentials in it (user info, query values) masked. */
function displayUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = "***";
    for (const k of [...u.searchParams.keys()]) u.searchParams.set(k, "***");
    return u.href;
  } catch {
    return "<not a URL>";
  }
}

const encoder = new TextEncoder();

export function createNotifier(opts: NotifierOptions): NotifierPort {
  const env = opts.env;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const retries = opts.retries ?? 2;
  const names = channelNames(opts.channels);

  const failed = (channel: string, error: string, attempts = 0): NotificationResult => ({
    channel,
    status: "failed",
    attempts,
    error,
  });
  const delivery = (label: string, secrets: string[]) => ({
    label,
    timeoutMs,
    retries,
    secrets,
    env,
    ...(opts.log ? { log: opts.log } : {}),
  });
  const outcome = (
    channel: string,
    d: { ok: boolean; attempts: number; error?: string },
  ): NotificationResult =>
    d.ok
      ? { channel, status: "sent", attempts: d.attempts }
      : failed(channel, d.error ?? "not delivered", d.attempts);

  async function slack(
    name: string,
    c: { webhookUrlEnv: string },
    e: NotifyEvent,
  ): Promise<NotificationResult> {
    const url = env[c.webhookUrlEnv];
    if (!url) return failed(name, `${c.webhookUrlEnv} is not set`);
    if (!isHttpUrl(url)) return failed(name, `${c.webhookUrlEnv} is not an http(s) URL`);
    const body = encoder.encode(JSON.stringify(slackMessage(summarize(e))));
    const headers = { "Content-Type": "application/json", "User-Agent": userAgent() };
    return outcome(name, await postWithRetry({ url, headers, body }, delivery(name, secretParts(url, true))));
  }

  async function webhook(
    name: string,
    c: { url: string; secretEnv?: string },
    e: NotifyEvent,
  ): Promise<NotificationResult> {
    const secret = c.secretEnv ? env[c.secretEnv] : undefined;
    // An unsigned delivery to a receiver that expects signatures would be refused or, worse, trusted.
    if (c.secretEnv && !secret) return failed(name, `${c.secretEnv} is not set; not sending unsigned`);
    if (!isHttpUrl(c.url)) return failed(name, "the webhook URL is not an http(s) URL");
    const body = encoder.encode(JSON.stringify(webhookBody(e)));
    const headers = webhookHeaders(e, randomUUID(), secret ? sign(body, secret) : undefined);
    const secrets = [...secretParts(c.url, false), ...(secret ? [secret] : [])];
    return outcome(name, await postWithRetry({ url: c.url, headers, body }, delivery(name, secrets)));
  }

  /**
   * One call, bounded by the channel's whole budget: the forge client retries on its own, and
   * calling again after our timeout could post the comment twice.
   */
  async function issue(name: string, c: { number: number }, e: NotifyEvent): Promise<NotificationResult> {
    const commenter = opts.issueCommenter;
    if (!commenter) return { channel: name, status: "skipped", attempts: 0, error: noIssueProvider };
    const markdown = issueMarkdown(summarize(e));
    const limit = budgetMs(timeoutMs, retries);
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        ac.abort();
        reject(new Error(`timed out after ${limit} ms`));
      }, limit);
    });
    try {
      await Promise.race([commenter(c.number, markdown, ac.signal), timeout]);
      opts.log?.(`notify ${name}: commented on #${c.number}`);
      return { channel: name, status: "sent", attempts: 1 };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      opts.log?.(scrub(`notify ${name}: ${message}`, [], env));
      return failed(name, scrub(message, [], env), 1);
    } finally {
      clearTimeout(timer);
    }
  }

  async function one(name: string, c: NotifyChannel, e: NotifyEvent): Promise<NotificationResult> {
    try {
      switch (c.type) {
        case "slack":
          return await slack(name, c, e);
        case "webhook":
          return await webhook(name, c, e);
        case "issue":
          return await issue(name, c, e);
      }
    } catch (err) {
      // A bug in building a message must cost one channel, not the announcement.
      const message = err instanceof Error ? err.message : String(err);
      const secrets = c.type === "slack" ? secretParts(env[c.webhookUrlEnv] ?? "", true) : [];
      return failed(name, scrub(message, secrets, env));
    }
  }

  return {
    announce(e, only) {
      const picked = opts.channels.map((c, i) => [c, names[i]!] as const);
      return Promise.all(
        picked.filter(([, name]) => !only || only.includes(name)).map(([c, name]) => one(name, c, e)),
      );
    },
    preview(e) {
      return opts.channels.map((c, i) => ({ channel: names[i]!, payload: previewOf(c, e) }));
    },
  };

  function previewOf(c: NotifyChannel, e: NotifyEvent): unknown {
    switch (c.type) {
      case "slack":
        return {
          to: `$${c.webhookUrlEnv}`,
          ...(env[c.webhookUrlEnv] ? {} : { problem: `${c.webhookUrlEnv} is not set` }),
          body: slackMessage(summarize(e)),
        };
      case "webhook": {
        const headers = webhookHeaders(e, "<a new UUID per delivery>", undefined);
        if (c.secretEnv) headers[signatureHeader] = `<signed with $${c.secretEnv}>`;
        return {
          to: displayUrl(c.url),
          ...(c.secretEnv && !env[c.secretEnv] ? { problem: `${c.secretEnv} is not set` } : {}),
          headers,
          body: webhookBody(e),
        };
      }
      case "issue":
        return {
          issue: c.number,
          ...(opts.issueCommenter ? {} : { problem: noIssueProvider }),
          markdown: issueMarkdown(summarize(e)),
        };
    }
  }
}

/** The event `optout notify test` sends: a synthetic record that is clearly not an override. */
export function testEvent(o: { repo: string; actor: Actor; id: string; now: Date }): NotifyEvent {
  const record: RecordDraft = {
    id: o.id,
    type: "review",
    op: null,
    actor: o.actor,
    repo: o.repo,
    target: {},
    reason: "Test notification from `optout notify test`; nothing was overridden.",
    ticket: null,
    mechanism: null,
    before: null,
    after: null,
    expiresAt: null,
    links: {},
    outcome: "applied",
    time: o.now.toISOString(),
  };
  return { event: "test", record, repo: o.repo, links: {} };
}
