/**
 * Stage skips by commit status: post `success` under the stage's status name on the commit, so a
 * pipeline or merge check waiting for it goes ahead. GitLab has no way to delete a status; a
 * revert posts the state recorded before (see restoreTarget).
 * Endpoints: https://docs.gitlab.com/api/commits/#commit-status
 */
import type { StagePolicy } from "../../core/policy.js";
import type { OverrideSpec, Plan } from "../../core/ports.js";
import type { LedgerRecord } from "../../core/record.js";
import { FailedError, ForgeError, UsageError } from "../../errors.js";
import { type GitLabDeps, maxStatusField, recordUrl, truncate, until } from "./context.js";
import type { CommitStatus } from "./map.js";

/** What a status was (the port's `before` for mechanism status). */
export interface StatusState {
  state: string;
  description: string | null;
  targetUrl: string | null;
}

/**
 * What optout posted (or will post), with where: a revert must hit the same commit and ref. A
 * plan's `ref` is null for a commit given without a ref: GitLab then picks the pipeline, and
 * the ref it answers with is what the record keeps.
 */
export interface StatusPost extends StatusState {
  sha: string;
  ref: string | null;
  context: string;
}

/** The states POST /statuses accepts (GitLab's CreateCommitStatusService#apply_job_state!). */
const postable = new Set(["pending", "running", "success", "failed", "canceled", "skipped"]);

function stateOf(s: CommitStatus | undefined): StatusState | null {
  return s ? { state: s.status, description: s.description ?? null, targetUrl: s.target_url ?? null } : null;
}

function contextOf(stage: StagePolicy): string {
  const context = stage.context;
  if (!context) {
    throw new UsageError(`stage ${stage.name} uses mechanism "status" but has no "context"`, {
      hint: `set stages.${stage.name}.context to the status name its pipeline job reports`,
    });
  }
  if ([...context].length > maxStatusField) {
    throw new UsageError(`stages.${stage.name}.context is longer than GitLab's ${maxStatusField} characters`);
  }
  return context;
}

function postCall(deps: GitLabDeps, p: StatusPost, description: string, targetUrl: string): string {
  return deps.api.call("POST", `/statuses/${p.sha}`, {
    state: p.state,
    name: p.context,
    ...(p.ref !== null ? { ref: p.ref } : {}),
    description,
    target_url: targetUrl,
  });
}

export async function planStatusSkip(
  deps: GitLabDeps,
  stage: StagePolicy,
  spec: OverrideSpec,
): Promise<Plan> {
  const context = contextOf(stage);
  const ref = spec.target.ref ?? null;
  if (!ref && !spec.target.sha)
    throw new UsageError("a status skip needs a commit or the ref its pipeline runs for", {
      hint: "pass --ref <branch> or --sha <commit>",
    });
  const sha = spec.target.sha ?? (await deps.api.commitSha(ref!));
  const current = await deps.api.latestStatus(sha, ref, context);
  await refuseJobName(deps, stage, context, current);
  // With a commit and no ref, the status joins the pipeline GitLab picks (the commit's newest);
  // the ref of the status read is the best guess to show, the POST's answer is the truth.
  const shownRef = ref ?? current?.ref ?? null;
  const after: StatusPost = { state: "success", description: null, targetUrl: null, sha, ref, context };
  return {
    steps: [
      `will post status success on ${context} @ ${sha.slice(0, 12)} (${shownRef ?? "the ref GitLab picks for the commit"}) ${until(spec.expiresAt)}`,
      current ? `${context} is ${current.status} now` : `${context} has no status on that commit yet`,
    ],
    calls: [postCall(deps, after, "waived by optout: <reason>", "<the record on the audit branch>")],
    before: stateOf(current),
    after,
    external: true,
  };
}

/**
 * GitLab refuses an external status named like a job of the pipeline it joins ("has already
 * been taken"), and a status cannot pass a job GitLab runs itself. Found while planning, before
 * the intent is written. A status with a link is someone's external status; one without is
 * checked against the jobs API (jobs and external statuses share ids; only jobs are found).
 */
async function refuseJobName(
  deps: GitLabDeps,
  stage: StagePolicy,
  context: string,
  current: CommitStatus | undefined,
): Promise<void> {
  if (!current || current.target_url) return;
  if (!(await deps.api.isJob(current.id))) return;
  throw new UsageError(
    `stages.${stage.name}.context "${context}" is the name of a job GitLab runs in that pipeline; a commit status cannot stand in for it`,
    {
      hint: `use mechanism "guard" for jobs GitLab runs itself (the job runs \`optout guard ${stage.name}\`), or "variable" with rules: in .gitlab-ci.yml`,
    },
  );
}

export async function applyStatusSkip(
  deps: GitLabDeps,
  plan: Plan,
  record: LedgerRecord,
): Promise<StatusPost> {
  const p = plan.after as StatusPost;
  return post(deps, {
    ...p,
    state: "success",
    description: truncate(`waived by optout: ${record.reason ?? ""}`.trim(), maxStatusField),
    targetUrl: await recordUrl(deps, record.id),
  });
}

/**
 * What a revert posts. No status before the waiver → `pending`: the check has not reported, and
 * that is what pending says (a merge waiting for success keeps waiting until the real job
 * reports). `failed` would claim a failure and `canceled` a cancellation that never happened,
 * and GitLab cannot delete a status. A state POST does not accept (created, manual, scheduled,
 * preparing, waiting_for_resource: all "not started") maps to `pending` for the same reason.
 */
function restoreTarget(before: StatusState | null, posted: StatusPost, originalId: string): StatusPost {
  if (before && postable.has(before.state)) return { ...posted, ...before };
  return {
    ...posted,
    state: "pending",
    description:
      before?.description ?? `optout waiver ${originalId} ended; waiting for ${posted.context} to report`,
    targetUrl: before?.targetUrl ?? null,
  };
}

/**
 * Undoing a waiver: `posted` is what apply recorded (with the ref GitLab chose when none was
 * given), `before` the state before it, `id` the waiver's record.
 */
export async function planStatusRestore(
  deps: GitLabDeps,
  waiver: { posted: unknown; before: unknown; id: string },
): Promise<Plan> {
  const posted = asStatusPost(waiver.posted);
  const want = restoreTarget(asStatusState(waiver.before), posted, waiver.id);
  const current = await deps.api.latestStatus(posted.sha, posted.ref, posted.context);
  const why = waiver.before === null ? " (it had no status before the waiver; GitLab cannot delete one)" : "";
  return {
    steps: [
      `will set status ${posted.context} @ ${posted.sha.slice(0, 12)} (${posted.ref ?? "the ref GitLab picks"}) back to ${want.state}${why}`,
    ],
    calls: [postCall(deps, want, want.description ?? "", want.targetUrl ?? "")],
    before: stateOf(current),
    after: want,
    external: true,
  };
}

export async function restoreStatus(deps: GitLabDeps, plan: Plan): Promise<StatusPost> {
  return post(deps, plan.after as StatusPost);
}

/**
 * POST the status. GitLab answers 400 "Cannot transition status via :run from :running" when our
 * own running/pending status is already in the asked state (typically: a retry whose first
 * answer was lost). Read it back; if it is what we asked for, that is success.
 */
async function post(deps: GitLabDeps, p: StatusPost): Promise<StatusPost> {
  try {
    const s = await deps.api.postStatus(p.sha, { ...p, name: p.context });
    return {
      ...p,
      // Without a ref GitLab chose one: the record keeps it, so a revert posts to the same pipeline.
      ref: p.ref ?? s.ref ?? null,
      state: s.status,
      description: s.description ?? null,
      targetUrl: s.target_url ?? null,
    };
  } catch (e) {
    if (!(e instanceof ForgeError && e.status === 400 && /cannot transition status via/i.test(e.message)))
      throw e;
    const now = await deps.api.latestStatus(p.sha, p.ref, p.context);
    if (now?.status === p.state) return { ...p, ...stateOf(now)! };
    throw new FailedError(`${e.message}; the status is ${now?.status ?? "missing"}, not ${p.state}`);
  }
}

function asStatusState(x: unknown): StatusState | null {
  if (x === null || x === undefined) return null;
  const s = x as Partial<StatusState>;
  if (typeof s.state !== "string") throw new FailedError("the waiver's record has no usable `before` status");
  return { state: s.state, description: s.description ?? null, targetUrl: s.targetUrl ?? null };
}

function asStatusPost(x: unknown): StatusPost {
  const p = (x ?? {}) as Partial<StatusPost>;
  if (
    typeof p.sha !== "string" ||
    (typeof p.ref !== "string" && p.ref !== null) ||
    typeof p.context !== "string"
  ) {
    throw new FailedError("the waiver's record does not say which commit, ref and status it posted");
  }
  return {
    state: String(p.state),
    description: p.description ?? null,
    targetUrl: p.targetUrl ?? null,
    sha: p.sha,
    ref: p.ref ?? null,
    context: p.context,
  };
}
