/** What every GitLab override module works with: the endpoints, the command's context, timing. */
import type { ProviderContext } from "../../core/ports.js";
import { recordPath } from "../../ledger/store.js";
import type { GitLabApi } from "./api.js";

export interface GitLabDeps {
  api: GitLabApi;
  ctx: ProviderContext;
  /** How often `--wait` asks for a pipeline's status. */
  pollIntervalMs: number;
  sleep: (ms: number) => Promise<void>;
}

/** "until 2025-01-01T04:00:00.000Z" or "until reverted". */
export function until(expiresAt: string | null): string {
  return expiresAt ? `until ${expiresAt}` : "until reverted";
}

/** GitLab's limit for status names, descriptions and target URLs. */
export const maxStatusField = 255;

export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
}

/**
 * The record's page on the audit branch, for a commit status's target_url. A numeric project id
 * has no web path, so GitLab is asked for it (once). Falls back to the branch's tree, then to
 * nothing, rather than send a URL GitLab would reject as too long.
 */
export async function recordUrl(deps: GitLabDeps, recordId: string): Promise<string | null> {
  const repo = deps.ctx.repo;
  const project = /^\d+$/.test(repo) ? (await deps.api.project()).path_with_namespace : repo;
  const branch = deps.ctx.policy.audit.branch;
  const base = `${deps.api.host}/${project}/-`;
  for (const url of [auditFileUrl(deps, project, recordPath(recordId).path), `${base}/tree/${branch}`]) {
    if (url.length <= maxStatusField) return url;
  }
  return null;
}

/** A file on the audit branch as GitLab's web UI shows it. */
export function auditFileUrl(deps: GitLabDeps, project: string, path: string): string {
  return `${deps.api.host}/${project}/-/blob/${deps.ctx.policy.audit.branch}/${path}`;
}
