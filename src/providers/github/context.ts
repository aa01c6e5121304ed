/** What every part of the GitHub provider works with: the client, the repository, the run's context. */
import { formatDuration } from "../../core/duration.js";
import type { ProviderContext } from "../../core/ports.js";
import { UsageError } from "../../errors.js";
import { recordPath } from "../../ledger/store.js";
import { fillPath, type GitHubApi, type GitHubClient } from "./client.js";

export { sleep } from "./client.js";

export interface GhContext {
  ctx: ProviderContext;
  client: GitHubApi;
  owner: string;
  name: string;
  /** How long to wait between polls of a workflow run (OPTOUT_POLL_INTERVAL_MS; default 5 s). */
  pollMs: number;
  /** Set during apply/restore: Ctrl-C stops requests and waits. */
  signal?: AbortSignal;
}

/** The context for one apply or restore, cancelled by `signal`. */
export function withSignal(gh: GhContext, client: GitHubClient, signal: AbortSignal | undefined): GhContext {
  return signal ? { ...gh, client: client.bound(signal), signal } : gh;
}

export function ghContext(ctx: ProviderContext, client: GitHubClient): GhContext {
  const parts = ctx.repo.split("/");
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new UsageError(`"${ctx.repo}" is not a GitHub repository name`, {
      hint: 'set "repo": "owner/name" in the policy, or pass --repo owner/name',
    });
  }
  const poll = Number(ctx.env.OPTOUT_POLL_INTERVAL_MS);
  return {
    ctx,
    client,
    owner: parts[0],
    name: parts[1],
    pollMs: Number.isFinite(poll) && poll > 0 ? poll : 5_000,
  };
}

/** The request line a plan shows: "POST /repos/acme/shop/statuses/3f2a…". */
export function callLine(gh: GhContext, route: string, params: Record<string, unknown> = {}): string {
  const [method, template = ""] = route.split(" ");
  return `${method} ${fillPath(template, { owner: gh.owner, repo: gh.name, ...params })}`;
}

/** The repository params every repo-scoped request needs. */
export function repoParams(gh: GhContext): { owner: string; repo: string } {
  return { owner: gh.owner, repo: gh.name };
}

/** A file on the audit branch as GitHub shows it. */
export function auditUrl(gh: GhContext, path: string): string {
  const branch = gh.ctx.policy.audit.branch.split("/").map(encodeURIComponent).join("/");
  return `${gh.client.serverUrl}/${gh.owner}/${gh.name}/blob/${branch}/${path}`;
}

/** A link to a record on the audit branch: where a status's "Details" points. */
export function recordUrl(gh: GhContext, recordId: string): string {
  return auditUrl(gh, recordPath(recordId).path);
}

/** "for 4h" / "until reverted" for plan lines. */
export function untilText(gh: GhContext, expiresAt: string | null): string {
  if (!expiresAt) return "until reverted";
  const ms = Date.parse(expiresAt) - gh.ctx.now().getTime();
  // The flow fixed expiresAt a moment ago: round so a 4h TTL reads "4h", not "3h 59m".
  return `for ${formatDuration(ms >= 60_000 ? Math.round(ms / 60_000) * 60_000 : ms)}`;
}

export function short(sha: string): string {
  return sha.slice(0, 7);
}

export function quoted(value: string | null): string {
  return value === null ? "unset" : JSON.stringify(value);
}
