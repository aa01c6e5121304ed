/**
 * Skip by commit status (docs/providers.md, Skips): post `success` on the stage's
 * required-check context so the merge or deploy gate opens; revert re-posts what was there.
 */
import type { Plan } from "../../core/ports.js";
import type { IndexEntry, LedgerRecord } from "../../core/record.js";
import { ForgeError, UsageError } from "../../errors.js";
import { callLine, type GhContext, quoted, recordUrl, repoParams, short, untilText } from "./context.js";
import { combinedStatusSchema, parse } from "./schemas.js";

export interface CommitStatus {
  state: string;
  description: string | null;
  targetUrl: string | null;
}

/** What a status skip sets, with where: the resolved commit and the context. */
export interface StatusAfter extends CommitStatus {
  sha: string;
  context: string;
}

const postRoute = "POST /repos/{owner}/{repo}/statuses/{sha}";
/** GitHub's limit on a status description. */
const descriptionMax = 140;

/**
 * A ref (or sha) → its commit and the latest status of each context, in one request: GitHub's
 * combined status (`GET /repos/{o}/{r}/commits/{ref}/status`) lists the newest status per context.
 */
export async function combinedStatus(
  gh: GhContext,
  ref: string,
): Promise<{ sha: string; statuses: Map<string, CommitStatus> }> {
  const r = await gh.client.request<unknown>(
    "GET /repos/{owner}/{repo}/commits/{ref}/status",
    { ...repoParams(gh), ref, per_page: 100 },
    { action: "read commit statuses", accept: [404] },
  );
  if (r.status === 404) {
    // "No commit found for SHA: x" is the ref; any other 404 is the repository.
    const said = (r.data as { message?: unknown } | undefined)?.message;
    if (typeof said === "string" && /no commit found/i.test(said)) {
      throw new UsageError(`ref "${ref}" is not on GitHub (${gh.owner}/${gh.name})`, {
        hint: "push it first, or pass --sha with a commit GitHub has",
      });
    }
    throw new ForgeError(
      "GitHub",
      404,
      `GitHub: repository ${gh.owner}/${gh.name} not found or the token cannot see it (404)`,
    );
  }
  const body = parse(combinedStatusSchema, r.data, "GET /repos/{owner}/{repo}/commits/{ref}/status");
  const statuses = new Map<string, CommitStatus>();
  // Contexts are case-insensitive on GitHub; the list is newest first.
  for (const s of body.statuses) {
    const key = s.context.toLowerCase();
    if (!statuses.has(key))
      statuses.set(key, { state: s.state, description: s.description, targetUrl: s.target_url });
  }
  return { sha: body.sha, statuses };
}

/** A ref → its commit sha, as GitHub sees it. */
export async function resolveSha(gh: GhContext, ref: string): Promise<string> {
  return (await combinedStatus(gh, ref)).sha;
}

/** The newest status for `context` on `sha`, or null. */
export async function latestStatus(
  gh: GhContext,
  sha: string,
  context: string,
): Promise<CommitStatus | null> {
  return (await combinedStatus(gh, sha)).statuses.get(context.toLowerCase()) ?? null;
}

function contextOf(gh: GhContext, stage: string): string {
  const context = gh.ctx.policy.stages[stage]?.context;
  if (!context) {
    throw new UsageError(`stage ${stage} has mechanism "status" but no "context"`, {
      hint: `set stages.${stage}.context to the check's name (e.g. "ci/lint") in ${gh.ctx.policy.file}`,
    });
  }
  return context;
}

export async function planStatusSkip(
  gh: GhContext,
  target: Record<string, string | null>,
  expiresAt: string | null,
): Promise<Plan> {
  const context = contextOf(gh, String(target.stage));
  const combined = await combinedStatus(gh, target.sha ?? String(target.ref));
  const sha = combined.sha;
  const before = combined.statuses.get(context.toLowerCase()) ?? null;
  const after: StatusAfter = {
    state: "success",
    description: "waived by optout",
    targetUrl: null,
    sha,
    context,
  };
  const at = `${short(sha)}${target.sha ? "" : ` (${target.ref})`}`;
  return {
    steps: [
      `${context} @ ${short(sha)} is ${before ? `${before.state}${before.description ? ` (${quoted(before.description)})` : ""}` : "not reported yet"}`,
      `will post status success on ${context} @ ${at} ${untilText(gh, expiresAt)}`,
    ],
    calls: [callLine(gh, postRoute, { sha })],
    before,
    after,
    external: true,
  };
}

async function post(gh: GhContext, s: StatusAfter): Promise<void> {
  await gh.client.request(
    postRoute,
    {
      ...repoParams(gh),
      sha: s.sha,
      state: s.state,
      context: s.context,
      description: s.description,
      target_url: s.targetUrl,
    },
    { action: "write commit statuses", write: true },
  );
}

export async function applyStatusSkip(gh: GhContext, plan: Plan, record: LedgerRecord): Promise<StatusAfter> {
  const planned = plan.after as StatusAfter;
  const after: StatusAfter = {
    ...planned,
    description: clip(`waived by optout: ${(record.reason ?? "").replace(/\s+/g, " ").trim()}`),
    targetUrl: recordUrl(gh, record.id),
  };
  await post(gh, after);
  return after;
}

/**
 * Undoing a status skip. If a newer status than the waiver is there (CI ran again), it is the
 * truth now and is left alone: re-posting the old state would hide a real result.
 */
export async function planStatusRestore(
  gh: GhContext,
  entry: IndexEntry,
  original: LedgerRecord,
): Promise<Plan> {
  const waived = (entry.after ?? original.after) as StatusAfter;
  const sha = waived.sha ?? original.target.sha;
  const context = waived.context ?? contextOf(gh, String(original.target.stage));
  const current = await latestStatus(gh, sha, context);
  const ours = current?.targetUrl?.endsWith(`/${original.id}.json`) === true;
  if (!ours) {
    return {
      steps: [
        `${context} @ ${short(sha)} has a newer status (${current?.state ?? "none"}) than the waiver; leaving it`,
      ],
      calls: [],
      before: current,
      after: current,
      external: false,
    };
  }
  const previous = original.before as CommitStatus | null;
  // GitHub cannot delete a status: with nothing to go back to, ask for the check to run again.
  const restored: StatusAfter = previous
    ? { ...previous, sha, context }
    : {
        state: "pending",
        description: clip(`optout waiver ${original.id} reverted: run the check again`),
        targetUrl: null,
        sha,
        context,
      };
  return {
    steps: [
      previous
        ? `will re-post status ${previous.state} on ${context} @ ${short(sha)} (as before the waiver)`
        : `will post status pending on ${context} @ ${short(sha)}: GitHub cannot delete a status, so the check must run again`,
    ],
    calls: [callLine(gh, postRoute, { sha })],
    before: current,
    after: restored,
    external: true,
  };
}

export async function restoreStatus(
  gh: GhContext,
  plan: Plan,
  original: LedgerRecord,
  record: LedgerRecord,
): Promise<StatusAfter> {
  const planned = plan.after as StatusAfter;
  // The "run it again" status links to the revert record that explains it.
  const after = original.before === null ? { ...planned, targetUrl: recordUrl(gh, record.id) } : planned;
  await post(gh, after);
  return after;
}

/** At most 140 characters (code points), GitHub's limit on a status description. */
function clip(text: string): string {
  const chars = [...text];
  return chars.length <= descriptionMax ? text : `${chars.slice(0, descriptionMax - 1).join("")}…`;
}
