/**
 * After an intent whose outcome is unknown (a crash, a lost answer, a wait that ran out): is the
 * intended change in effect on GitLab? Read, never written. A status names its record in its
 * link; a pipeline carries its record in OPTOUT_RECORD (or its workflow:name); a variable is
 * compared by value. `applied: false` only where GitLab shows the change did not happen.
 */
import type { LedgerRecord } from "../../core/record.js";
import type { GitLabDeps } from "./context.js";
import type { FailoverState } from "./failover.js";
import type { CommitStatus, Pipeline } from "./map.js";
import { findPipeline, type RunInfo } from "./pipelines.js";
import { settleRetry } from "./previous.js";
import type { RolloutState } from "./rollout.js";
import type { StatusPost } from "./statuses.js";
import { asVariableState, readVariable } from "./variables.js";

export type Settled = { applied: boolean; after: unknown } | undefined;

const finalStatuses = new Set(["success", "failed", "canceled", "skipped"]);

function linksTo(s: CommitStatus | undefined, id: string | null | undefined): boolean {
  return !!id && s?.target_url?.endsWith(`/${id}.json`) === true;
}

async function settleStatus(deps: GitLabDeps, intent: LedgerRecord): Promise<Settled> {
  const want = intent.after as Partial<StatusPost> | null;
  if (!want?.sha || !want.context) return undefined;
  const now = await deps.api.latestStatus(want.sha, want.ref ?? null, want.context);
  const restoring = intent.type === "revert" || intent.type === "expire";
  // A waiver links to its own record; a restored status is recognised by its content, once the
  // waiver it replaces is no longer the latest.
  const applied =
    linksTo(now, intent.id) ||
    (restoring &&
      !!now &&
      !linksTo(now, intent.links.reverts) &&
      now.status === want.state &&
      (now.description ?? null) === (want.description ?? null) &&
      (now.target_url ?? null) === (want.targetUrl ?? null));
  if (!applied) return { applied: false, after: intent.before };
  return {
    applied: true,
    after: {
      ...want,
      ref: want.ref ?? now?.ref ?? null,
      state: now!.status,
      description: now!.description ?? null,
      targetUrl: now!.target_url ?? null,
    },
  };
}

async function settleVariable(deps: GitLabDeps, intent: LedgerRecord): Promise<Settled> {
  const want = asVariableState(intent.after, "after");
  const now = await readVariable(deps.api, want.key, want.scope);
  return { applied: now.value === want.value, after: now };
}

function runOf(p: Pipeline): RunInfo {
  return { id: p.id, url: p.web_url ?? null, conclusion: finalStatuses.has(p.status) ? p.status : null };
}

/** The pipeline the intent created, if GitLab has it. */
function pipelineOf(deps: GitLabDeps, intent: LedgerRecord, ref: string | null) {
  return findPipeline(deps, intent.id, ref, new Date(Date.parse(intent.time) - 5 * 60_000));
}

async function settleRollout(deps: GitLabDeps, intent: LedgerRecord): Promise<Settled> {
  if (intent.mechanism === "rerun" && intent.params?.previous) return settleRetry(deps, intent);
  const want = (intent.after ?? {}) as RolloutState;
  const found = await pipelineOf(deps, intent, want.ref ?? null);
  // Creating a pipeline is one request: no pipeline with the record means it was never created.
  if (!found) return { applied: false, after: intent.before };
  return { applied: true, after: { ...want, run: runOf(found) } };
}

async function settleFailover(deps: GitLabDeps, intent: LedgerRecord): Promise<Settled> {
  const want = (intent.after ?? {}) as FailoverState;
  if (!want.variable) return undefined;
  const variable = asVariableState(want.variable, "after.variable");
  const now = await readVariable(deps.api, variable.key, variable.scope);
  // The variable is switched first: not switched, nothing happened.
  if (now.value !== variable.value) return { applied: false, after: intent.before };
  const found = want.ref && want.target ? await pipelineOf(deps, intent, want.ref) : undefined;
  // The variable is the failover; its pipeline, when one was due and none exists, did not start.
  return { applied: true, after: { ...want, variable: now, ...(found ? { run: runOf(found) } : {}) } };
}

export async function settle(deps: GitLabDeps, intent: LedgerRecord): Promise<Settled> {
  switch (intent.op ?? intent.type) {
    case "skip":
      if (intent.mechanism === "status") return settleStatus(deps, intent);
      if (intent.mechanism === "variable") return settleVariable(deps, intent);
      return undefined;
    case "flag":
      return settleVariable(deps, intent);
    case "rollout":
      return settleRollout(deps, intent);
    case "failover":
      return settleFailover(deps, intent);
    default:
      return undefined;
  }
}
