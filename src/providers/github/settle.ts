/**
 * After a crash between an intent record and its result: is the intended change in effect on
 * GitHub? Each override leaves a mark that names its record — the status's link, the run's name —
 * or a value that can be compared (variables).
 */
import type { LedgerRecord } from "../../core/record.js";
import type { GhContext } from "./context.js";
import { findRun, readRun } from "./dispatch.js";
import type { FailoverState } from "./failover.js";
import { previousDeployment } from "./previous.js";
import type { RolloutState } from "./rollout.js";
import { type CommitStatus, latestStatus, type StatusAfter } from "./status.js";
import { variableScope } from "./variable-overrides.js";
import { readVariable } from "./variables.js";

export type Settled = { applied: boolean; after: unknown } | undefined;

const linksTo = (s: CommitStatus | null, id: string | null | undefined) =>
  !!id && s?.targetUrl?.endsWith(`/${id}.json`) === true;

async function settleStatus(gh: GhContext, intent: LedgerRecord): Promise<Settled> {
  const want = intent.after as StatusAfter | null;
  if (!want?.sha || !want.context) return undefined;
  const now = await latestStatus(gh, want.sha, want.context);
  const restoring = intent.type === "revert" || intent.type === "expire";
  // A waiver, or a "run it again" status, links to its own record; a re-posted old status is
  // recognised by its content, once the waiver it replaces is no longer the latest.
  const applied =
    linksTo(now, intent.id) ||
    (restoring &&
      !linksTo(now, intent.links.reverts) &&
      now?.state === want.state &&
      now.description === want.description &&
      now.targetUrl === want.targetUrl);
  return { applied, after: applied ? { ...now, sha: want.sha, context: want.context } : intent.before };
}

async function settleVariable(gh: GhContext, intent: LedgerRecord, op: string): Promise<Settled> {
  const want = (intent.after as { value?: string | null } | null)?.value ?? null;
  const value = await readVariable(gh, variableScope(gh, op, intent.target));
  return { applied: value === want, after: { value } };
}

async function settleRun(gh: GhContext, intent: LedgerRecord, workflow: string | undefined) {
  if (!workflow) return null;
  const since = new Date(Date.parse(intent.time) - 5 * 60_000);
  return findRun(gh, { workflow, recordId: intent.id }, since, 1);
}

/**
 * A re-run keeps its run's id: it happened when the run started (again) after the intent. A
 * start before it means the re-run was never made.
 */
async function settleRerun(gh: GhContext, intent: LedgerRecord): Promise<Settled> {
  const d = await previousDeployment(gh, String(intent.target.env), String(intent.params!.previous));
  const run = await readRun(gh, d.runId);
  const started = Date.parse(run.run_started_at ?? run.created_at);
  // GitHub's clock and ours may differ by a little.
  if (!(started >= Date.parse(intent.time) - 60_000)) return { applied: false, after: intent.before };
  const done = run.status === "completed";
  return {
    applied: true,
    after: {
      artifact: d.artifact,
      deployment: d.id,
      run: { id: run.id, url: run.html_url, conclusion: done ? run.conclusion : null },
    },
  };
}

export async function settle(gh: GhContext, intent: LedgerRecord): Promise<Settled> {
  const op = intent.op ?? intent.type;
  const policy = gh.ctx.policy;
  switch (op) {
    case "skip":
      if (intent.mechanism === "status") return settleStatus(gh, intent);
      if (intent.mechanism === "variable") return settleVariable(gh, intent, op);
      return undefined;
    case "flag":
      return settleVariable(gh, intent, op);
    case "rollout": {
      if (intent.mechanism === "rerun" && intent.params?.previous) return settleRerun(gh, intent);
      const run = await settleRun(gh, intent, policy.rollout?.workflow);
      const after: RolloutState = { ...(intent.after as RolloutState), run };
      // No run named with the record: not dispatched, or a workflow whose run-name lacks the id.
      // We cannot tell which, so say unknown rather than "not applied".
      return run ? { applied: true, after } : undefined;
    }
    case "failover": {
      const want = (intent.after as FailoverState | null)?.target ?? null;
      const p = policy.failover;
      const value = p?.variable
        ? await readVariable(gh, { name: p.variable, env: intent.target.env ?? null })
        : want;
      // The variable is written before the dispatch (and put back if it fails): not set, not done.
      if (value !== want) return { applied: false, after: intent.before };
      const run = want ? await settleRun(gh, intent, p?.workflow) : null;
      if (p?.workflow && want && !run) return undefined;
      return { applied: true, after: { target: want, ...(run ? { run } : {}) } };
    }
    default:
      return undefined;
  }
}
