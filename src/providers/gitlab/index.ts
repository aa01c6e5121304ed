/**
 * The GitLab provider: overrides as GitLab state (commit statuses, project CI/CD variables,
 * pipelines), each planned read-only first, then applied after the intent record landed, and
 * reverted from the `before` that record keeps. What each mechanism does on GitLab: docs/providers.md.
 */
import type { Principal } from "../../core/policy.js";
import type {
  BranchProtection,
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
import type { Actor, LedgerRecord } from "../../core/record.js";
import { UsageError } from "../../errors.js";
import { restoreArgs, stateOf } from "../legacy.js";
import { Access } from "./access.js";
import { GitLabApi } from "./api.js";
import type { ClientOptions, TokenSource } from "./client.js";
import { auditFileUrl, type GitLabDeps, until } from "./context.js";
import { gitlabDoctor } from "./doctor.js";
import { applyFailover, planFailover, planFailoverRestore, restoreFailover } from "./failover.js";
import { previousDeployment } from "./previous.js";
import { applyRollout, planRollout, planRolloutRestore, restoreRollout } from "./rollout.js";
import { type Settled, settle } from "./settle.js";
import { applyStatusSkip, planStatusRestore, planStatusSkip, restoreStatus } from "./statuses.js";
import {
  applyVariable,
  planFlag,
  planVariableRestore,
  planVariableSkip,
  restoreVariableOverride,
} from "./variable-overrides.js";

export type { TokenSource } from "./client.js";

export interface GitLabProvider extends ProviderPort {
  readonly name: "gitlab";
  /** Where the token came from (an environment variable, or glab), never the token; null when none. */
  tokenSource(): Promise<TokenSource | null>;
  /** The commit a ref (branch, tag or sha) points at on GitLab. */
  resolveSha(ref: string): Promise<string>;
}

export interface GitLabProviderOptions extends ClientOptions {
  /** How often `--wait` polls a pipeline (default: OPTOUT_POLL_INTERVAL_MS, else 5 s). */
  pollIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export function createGitLabProvider(
  ctx: ProviderContext,
  options: GitLabProviderOptions = {},
): GitLabProvider {
  return new GitLabProviderImpl(ctx, options);
}

/** Stage skips with mechanism `guard` are the ledger record alone, on every provider. */
/** GitLab's wildcard protected branches: `*` matches any characters, slashes included. */
function wildcardMatches(rule: string, branch: string): boolean {
  if (!rule.includes("*")) return false;
  const re = rule
    .split("*")
    .map((x) => x.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${re}$`).test(branch);
}

function ledgerOnlyPlan(steps: string[], before: unknown, after: unknown): Plan {
  return { steps, calls: ["ledger: append record on the audit branch"], before, after, external: false };
}

class GitLabProviderImpl implements GitLabProvider {
  readonly name = "gitlab" as const;
  private readonly deps: GitLabDeps;
  private readonly access: Access;

  constructor(ctx: ProviderContext, options: GitLabProviderOptions) {
    const api = new GitLabApi(ctx, options);
    this.deps = {
      api,
      ctx,
      pollIntervalMs: options.pollIntervalMs ?? envMs(ctx.env.OPTOUT_POLL_INTERVAL_MS) ?? 5_000,
      sleep: options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    };
    this.access = new Access(api, ctx.warn, ctx.policy);
  }

  tokenSource(): Promise<TokenSource | null> {
    return this.deps.api.client.tokenSource();
  }

  resolveSha(ref: string): Promise<string> {
    return this.deps.api.commitSha(ref);
  }

  /**
   * Whether GitLab protects `branch`: the rule naming it, else a wildcard rule matching it, with
   * `allow_force_push` false blocks force pushes; a protected branch cannot be deleted by push
   * or by developers (docs.gitlab.com/user/project/repository/branches/protected/).
   */
  async branchProtection(branch: string): Promise<BranchProtection | undefined> {
    const rules = await this.deps.api.protectedBranches();
    if (rules === undefined) return undefined;
    const p = rules.find((r) => r.name === branch) ?? rules.find((r) => wildcardMatches(r.name, branch));
    if (!p) {
      return {
        protected: false,
        forcePushBlocked: false,
        deletionBlocked: false,
        detail: "not a protected branch",
      };
    }
    const forcePushBlocked = p.allow_force_push !== true;
    return {
      protected: forcePushBlocked,
      forcePushBlocked,
      deletionBlocked: true,
      detail: `protected branch${p.name !== branch ? ` (rule ${p.name})` : ""}, force push ${forcePushBlocked ? "not allowed" : "allowed"}`,
    };
  }

  async identitySource(): Promise<string> {
    return `token from ${(await this.tokenSource()) ?? "nowhere"} (never shown)`;
  }

  doctorChecks(c: DoctorContext): Promise<DoctorCheck[]> {
    return gitlabDoctor(this.deps, this, c);
  }

  mechanismFor(op: "rollout" | "failover"): string {
    return op === "rollout" ? "pipeline" : "variable";
  }

  /** The deployment `rollout --previous` runs again (its deployment job). */
  previousDeployment(env: string, named?: string): Promise<PreviousDeployment> {
    return previousDeployment(this.deps, env, named);
  }

  /** A file on the audit branch as GitLab shows it; a numeric project id has no web path. */
  recordUrl(path: string): string | undefined {
    const repo = this.deps.ctx.repo;
    return /^\d+$/.test(repo) ? undefined : auditFileUrl(this.deps, repo, path);
  }

  /** Whether an intent whose outcome is unknown took effect, read from GitLab (`optout sync`). */
  settle(intent: LedgerRecord): Promise<Settled> {
    return settle(this.deps, intent);
  }

  /** A note on the policy's tracking issue (notify channel `issue`). */
  commentOnIssue(issue: number, markdown: string, signal?: AbortSignal): Promise<void> {
    return this.deps.api.commentOnIssue(issue, markdown, signal);
  }

  identity(): Promise<Actor> {
    return this.access.identity();
  }

  hasPrincipal(actor: Actor, principal: Principal): Promise<boolean> {
    return this.access.hasPrincipal(actor, principal);
  }

  async plan(spec: OverrideSpec, view: TargetView): Promise<Plan> {
    const state = stateOf(view);
    const policy = this.deps.ctx.policy;
    switch (spec.op) {
      case "skip": {
        const stage = policy.stages[spec.target.stage ?? ""];
        if (!stage) throw new UsageError(`unknown stage "${spec.target.stage}"`);
        if (spec.mechanism === "guard") {
          const where = spec.target.sha ? `commit ${spec.target.sha.slice(0, 12)}` : `ref ${spec.target.ref}`;
          return ledgerOnlyPlan(
            [
              `will waive stage ${stage.name} on ${where} ${until(spec.expiresAt)}: \`optout guard ${stage.name}\` will answer skip`,
            ],
            null,
            { waived: true },
          );
        }
        if (spec.mechanism === "status") return planStatusSkip(this.deps, stage, spec);
        if (spec.mechanism === "variable") return planVariableSkip(this.deps, stage, spec);
        throw new UsageError(`unknown skip mechanism "${spec.mechanism}"`);
      }
      case "flag": {
        const flag = policy.flags[spec.target.flag ?? ""];
        if (!flag) throw new UsageError(`unknown flag "${spec.target.flag}"`);
        return planFlag(this.deps, flag, spec);
      }
      case "rollout":
        return planRollout(this.deps, spec, state);
      case "failover":
        return planFailover(this.deps, spec);
    }
  }

  async apply(
    spec: OverrideSpec,
    plan: Plan,
    record: LedgerRecord,
  ): Promise<{ after: unknown; detail?: string }> {
    switch (spec.op) {
      case "skip":
        if (spec.mechanism === "status") {
          const after = await applyStatusSkip(this.deps, plan, record);
          return { after, detail: `posted ${after.state} on ${after.context} @ ${after.sha.slice(0, 12)}` };
        }
        return { after: await applyVariable(this.deps, plan, record.id), detail: "set the skip variable" };
      case "flag":
        return {
          after: await applyVariable(this.deps, plan, record.id),
          detail: "changed the flag variable",
        };
      case "rollout": {
        const after = await applyRollout(this.deps, spec, plan, record);
        return { after, detail: runDetail(after.run) };
      }
      case "failover": {
        const after = await applyFailover(this.deps, spec, plan, record);
        return {
          after,
          detail: `switched ${after.variable.key} to ${after.target}${after.run ? `; ${runDetail(after.run)}` : ""}`,
        };
      }
    }
  }

  async planRestore(spec: RestoreSpec): Promise<Plan> {
    const { entry, original, state } = restoreArgs(spec);
    void state;
    const op = entry.op ?? original.op ?? original.type;
    const mechanism = original.mechanism ?? entry.mechanism;
    if (op === "skip" && mechanism === "guard") {
      return ledgerOnlyPlan(
        [`will end skip ${entry.id}; \`optout guard\` stops answering skip at once`],
        entry.after ?? null,
        entry.before ?? null,
      );
    }
    if (op === "skip" && mechanism === "status") {
      return planStatusRestore(this.deps, {
        posted: entry.after ?? original.after,
        before: original.before,
        id: original.id,
      });
    }
    if (op === "skip" || op === "flag") return planVariableRestore(this.deps, original);
    if (op === "rollout") return planRolloutRestore(this.deps, entry.after ?? null, original);
    if (op === "failover") return planFailoverRestore(this.deps, original);
    throw new UsageError(`${op} ${entry.id} cannot be reverted on GitLab`);
  }

  async restore(spec: RestoreSpec, plan: Plan, record: LedgerRecord): Promise<{ after: unknown }> {
    const { entry, original } = restoreArgs(spec);
    const op = entry.op ?? original.op ?? original.type;
    const mechanism = original.mechanism ?? entry.mechanism;
    if (op === "skip" && mechanism === "status") return { after: await restoreStatus(this.deps, plan) };
    if (op === "skip" || op === "flag") return { after: await restoreVariableOverride(this.deps, plan) };
    if (op === "rollout") return { after: await restoreRollout(this.deps, plan, original, record) };
    if (op === "failover") return { after: await restoreFailover(this.deps, plan, original, record) };
    throw new UsageError(`${op} ${entry.id} cannot be reverted on GitLab`);
  }
}

/** A positive number of milliseconds from the environment (OPTOUT_POLL_INTERVAL_MS), else undefined. */
function envMs(value: string | undefined): number | undefined {
  const n = Number(value);
  return value && Number.isFinite(n) && n > 0 ? n : undefined;
}

function runDetail(run: { id: number; url: string | null; conclusion: string | null } | undefined): string {
  if (!run) return "no pipeline";
  return `pipeline #${run.id} ${run.conclusion ?? "created"}${run.url ? `: ${run.url}` : ""}`;
}
