/**
 * `optout doctor` on GitHub: the token, branch protection of the audit and default branches, and
 * whether a stage with mechanism `status` can work at all: a ruleset or classic protection that
 * requires its check from a specific GitHub App is satisfied only by that app, never by a commit
 * status optout posts (unless optout authenticates as that very app).
 */
import type { DoctorCheck, DoctorContext } from "../../core/ports.js";
import { attempt, forgeChecks } from "../doctor.js";
import type { GitHubClient } from "./client.js";
import type { GhContext } from "./context.js";
import { type BranchRules, branchRules } from "./protection.js";

function protectHint(branch: string, audit: boolean): string {
  return audit
    ? `GitHub: Settings → Rules → Rulesets → New branch ruleset targeting ${branch}: enable "Restrict deletions" and "Block force pushes"`
    : `GitHub: Settings → Rules → Rulesets → New branch ruleset targeting ${branch}: "Restrict deletions", "Block force pushes" and "Require a pull request before merging"`;
}

export async function githubDoctor(
  gh: GhContext,
  client: GitHubClient,
  c: DoctorContext,
): Promise<DoctorCheck[]> {
  const read = new Map<string, Promise<BranchRules>>();
  // The default branch's rules serve both its protection check and the status-stage check.
  const rules = (branch: string) => {
    const known = read.get(branch);
    if (known) return known;
    const r = branchRules(gh, branch);
    read.set(branch, r);
    return r;
  };
  const checks = await forgeChecks(
    {
      label: "GitHub",
      tokenSource: () => client.tokenSource(),
      noTokenHint:
        "set OPTOUT_GITHUB_TOKEN (or GH_TOKEN), configure a GitHub App (OPTOUT_GITHUB_APP_ID and OPTOUT_GITHUB_APP_PRIVATE_KEY), or log in with `gh auth login`",
      branchProtection: async (b) => (await rules(b)).protection,
      cannotTell: "the token needs admin on the repository (fine-grained token: Administration read)",
      protectHint,
    },
    c,
  );
  const stages = Object.values(gh.ctx.policy.stages).filter((s) => s.mechanism === "status" && s.context);
  if (checks[0]?.status === "fail" || stages.length === 0 || !c.defaultBranch) return checks;
  const branch = c.defaultBranch;
  checks.push(
    await attempt("status stages", async () => {
      const required = (await rules(branch)).requiredChecks;
      const ours = (await client.bot())?.appId;
      const blocked = stages.flatMap((s) => {
        const r = required.find(
          (x) => x.context.toLowerCase() === s.context!.toLowerCase() && x.appId !== null && x.appId !== ours,
        );
        return r ? [{ ...r, stage: s.name }] : [];
      });
      if (blocked.length === 0) {
        return {
          status: "ok",
          detail: `${stages.map((s) => s.context).join(", ")}: a commit status can satisfy them on ${branch}`,
        };
      }
      const b = blocked[0]!;
      return {
        status: "warn",
        detail: `${b.via} on ${branch} requires ${b.context} from GitHub App ${b.appId}: the commit status optout posts for stage ${b.stage} cannot satisfy it${blocked.length > 1 ? ` (and ${blocked.length - 1} more stage(s))` : ""}`,
        hint: `use mechanism "guard" for ${blocked.map((x) => `stages.${x.stage}`).join(", ")} (the job runs \`optout guard <stage>\`)`,
      };
    }),
  );
  return checks;
}
