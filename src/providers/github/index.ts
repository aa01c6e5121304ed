/**
 * The GitHub provider: identity and principals from the API; skips as commit statuses or
 * Actions variables; flags as Actions variables; rollouts and failovers as workflow dispatches.
 * `plan` only reads (it is what --dry-run runs); `apply`/`restore` write.
 */
import type { Principal } from "../../core/policy.js";
import type {
  DoctorCheck,
  DoctorContext,
  OverrideSpec,
  Plan,
  PreviousDeployment,
  ProviderContext,
  ProviderPort,
  RestoreSpec,
  TargetView,
} from "../../core/ports.js";
import type { Actor, IndexEntry, LedgerRecord } from "../../core/record.js";
import { UsageError } from "../../errors.js";
import { restoreArgs, stateOf } from "../legacy.js";
import { GitHubClient } from "./client.js";
import { auditUrl, type GhContext, ghContext, repoParams, untilText, withSignal } from "./context.js";
import { githubDoctor } from "./doctor.js";
import { applyFailover, planFailover, planFailoverRestore, restoreFailover } from "./failover.js";
import { previousDeployment } from "./previous.js";
import { Principals } from "./principals.js";
import { type BranchProtection, branchProtection } from "./protection.js";
import { applyRollout, planRollout, planRolloutRestore, restoreRollout } from "./rollout.js";
import { settle } from "./settle.js";
import { applyStatusSkip, planStatusRestore, planStatusSkip, resolveSha, restoreStatus } from "./status.js";
import { planVariable, planVariableRestore, restoreVariable, setVariable } from "./variable-overrides.js";

export type { TokenSource } from "./token.js";

export class GitHubProvider implements ProviderPort {
  readonly name = "github" as const;
  private readonly client: GitHubClient;
  private readonly gh: GhContext;
  private readonly principals: Principals;

  constructor(ctx: ProviderContext) {
    this.client = new GitHubClient(ctx);
    this.gh = ghContext(ctx, this.client);
    this.principals = new Principals(this.gh);
  }

  /** Where the token came from, for `optout auth status` (never the token). */
  tokenSource(): Promise<string> {
    return this.client.tokenSource();
  }

  async identitySource(): Promise<string> {
    return `token from ${await this.client.tokenSource()} (never shown)`;
  }

  doctorChecks(c: DoctorContext): Promise<DoctorCheck[]> {
    return githubDoctor(this.gh, this.client, c);
  }

  mechanismFor(op: "rollout" | "failover"): string {
    return op === "rollout" ? "dispatch" : "variable";
  }

  /** The deployment `rollout --previous` re-runs (its workflow run). */
  previousDeployment(env: string, named?: string): Promise<PreviousDeployment> {
    return previousDeployment(this.gh, env, named);
  }

  /** A ref's commit as GitHub has it. */
  resolveSha(ref: string): Promise<string> {
    return resolveSha(this.gh, ref);
  }

  /** Whether GitHub blocks force pushes and deletion on `branch` (rulesets or classic protection). */
  branchProtection(branch: string): Promise<BranchProtection | undefined> {
    return branchProtection(this.gh, branch);
  }

  /** After a crash between intent and result: whether the intended change is in effect on GitHub. */
  settle(intent: LedgerRecord): Promise<{ applied: boolean; after: unknown } | undefined> {
    return settle(this.gh, intent);
  }

  /** A file on the audit branch, as GitHub shows it (notifications link records with it). */
  recordUrl(path: string): string {
    return auditUrl(this.gh, path);
  }

  /** A comment on the policy's tracking issue (notify channel `issue`). */
  async commentOnIssue(issue: number, markdown: string, signal?: AbortSignal): Promise<void> {
    await this.client.request(
      "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
      { ...repoParams(this.gh), issue_number: issue, body: markdown },
      {
        action: "comment on issues",
        notFound: `GitHub: issue #${issue} not found on ${this.gh.owner}/${this.gh.name}, or the token cannot see it (404)`,
        ...(signal ? { signal } : {}),
      },
    );
  }

  identity(): Promise<Actor> {
    return this.principals.identity();
  }

  hasPrincipal(actor: Actor, principal: Principal): Promise<boolean> {
    return this.principals.has(actor, principal);
  }

  async plan(spec: OverrideSpec, view: TargetView): Promise<Plan> {
    const state = stateOf(view);
    switch (spec.op) {
      case "skip":
        if (spec.mechanism === "guard") return guardPlan(this.gh, spec);
        if (spec.mechanism === "status") return planStatusSkip(this.gh, spec.target, spec.expiresAt);
        if (spec.mechanism === "variable") return planVariable(this.gh, spec, state);
        throw new UsageError(`unknown skip mechanism "${spec.mechanism}"`, {
          hint: "use status, variable or guard",
        });
      case "flag":
        return planVariable(this.gh, spec, state);
      case "rollout":
        return planRollout(this.gh, spec, state);
      case "failover":
        return planFailover(this.gh, spec, state);
    }
  }

  async apply(
    spec: OverrideSpec,
    plan: Plan,
    record: LedgerRecord,
    signal?: AbortSignal,
  ): Promise<{ after: unknown; detail?: string }> {
    const gh = withSignal(this.gh, this.client, signal);
    switch (spec.op) {
      case "skip":
        if (spec.mechanism === "status") {
          const after = await applyStatusSkip(gh, plan, record);
          return { after, detail: `posted status success on ${after.context} @ ${after.sha.slice(0, 7)}` };
        }
        return setVariable(gh, spec, plan);
      case "flag":
        return setVariable(gh, spec, plan);
      case "rollout": {
        const after = await applyRollout(gh, spec, plan, record);
        return { after, detail: runDetail("dispatched the rollout", after.run) };
      }
      case "failover": {
        const after = await applyFailover(gh, spec, plan, record);
        return { after, detail: runDetail(`failed over to ${after.target}`, after.run) };
      }
    }
  }

  async planRestore(spec: RestoreSpec): Promise<Plan> {
    const { entry, original, state } = restoreArgs(spec);
    void state;
    switch (entry.op ?? original.op ?? original.type) {
      case "skip":
        if (entry.mechanism === "status") return planStatusRestore(this.gh, entry, original);
        if (entry.mechanism === "variable") return planVariableRestore(this.gh, entry, original, state);
        return guardRestorePlan(entry);
      case "flag":
        return planVariableRestore(this.gh, entry, original, state);
      case "rollout":
        return planRolloutRestore(this.gh, entry, original);
      case "failover":
        return planFailoverRestore(this.gh, entry, original);
      default:
        throw new UsageError(`cannot restore ${entry.op ?? entry.type} ${entry.id}`);
    }
  }

  async restore(
    spec: RestoreSpec,
    plan: Plan,
    record: LedgerRecord,
    signal?: AbortSignal,
  ): Promise<{ after: unknown }> {
    const { entry, original } = restoreArgs(spec);
    const gh = withSignal(this.gh, this.client, signal);
    switch (entry.op ?? original.op ?? original.type) {
      case "skip":
        if (entry.mechanism === "status") return { after: await restoreStatus(gh, plan, original, record) };
        return restoreVariable(gh, entry, original, plan);
      case "flag":
        return restoreVariable(gh, entry, original, plan);
      case "rollout":
        return { after: await restoreRollout(gh, entry, original, plan, record) };
      case "failover":
        return { after: await restoreFailover(gh, entry, original, plan, record) };
      default:
        throw new UsageError(`cannot restore ${entry.op ?? entry.type} ${entry.id}`);
    }
  }
}

export function createGitHubProvider(ctx: ProviderContext): GitHubProvider {
  return new GitHubProvider(ctx);
}

/** Mechanism guard: the ledger record is the override, as on plain git (`optout guard` reads it). */
function guardPlan(gh: GhContext, spec: OverrideSpec): Plan {
  const t = spec.target;
  const where = t.sha ? `commit ${t.sha.slice(0, 12)}` : `ref ${t.ref}`;
  return {
    steps: [
      `will waive stage ${t.stage} on ${where} ${untilText(gh, spec.expiresAt)}: \`optout guard ${t.stage}\` will answer skip`,
    ],
    calls: ["ledger: append skip record on the audit branch"],
    before: null,
    after: { waived: true },
    external: false,
  };
}

function guardRestorePlan(entry: IndexEntry): Plan {
  return {
    steps: [`will end ${entry.op ?? entry.type} ${entry.id}; pipelines stop seeing it at once`],
    calls: ["ledger: append record on the audit branch"],
    before: entry.after ?? null,
    after: entry.before ?? null,
    external: false,
  };
}

function runDetail(what: string, run: { url: string; conclusion: string | null } | null | undefined): string {
  if (!run) return what;
  return run.conclusion ? `${what}: run ${run.conclusion} ${run.url}` : `${what}: ${run.url}`;
}
