/**
 * Branch protection as GitHub reports it, for `optout doctor`: repository rulesets
 * (`GET /repos/{o}/{r}/rules/branches/{branch}`: the rules that apply to the branch, rule types
 * `non_fast_forward`, `deletion`, `required_status_checks`) and classic branch protection
 * (`GET /repos/{o}/{r}/branches/{branch}/protection`: `allow_force_pushes.enabled`,
 * `allow_deletions.enabled`, `required_status_checks.checks`; 404 = not protected). Either one
 * blocking force pushes protects the branch. Classic protection needs admin (administration:
 * read) to read; a 403 there with no ruleset blocking force pushes means we cannot tell.
 */
import type { BranchProtection } from "../../core/ports.js";
import { type GhContext, repoParams } from "./context.js";
import { branchRulesSchema, classicProtectionSchema, parse } from "./schemas.js";

export type { BranchProtection };

/** A check a branch requires; `appId` set: only that GitHub App's result satisfies it. */
export interface RequiredCheck {
  context: string;
  appId: number | null;
  via: "ruleset" | "classic protection";
}

export interface BranchRules {
  /** Undefined when the token may not read them. */
  protection: BranchProtection | undefined;
  requiredChecks: RequiredCheck[];
}

const cannotTell = "the token needs admin on the repository (fine-grained: Administration read)";

export async function branchRules(gh: GhContext, branch: string): Promise<BranchRules> {
  const params = { ...repoParams(gh), branch };
  const rulesRoute = "GET /repos/{owner}/{repo}/rules/branches/{branch}";
  const rules = await gh.client.request<unknown>(
    rulesRoute,
    { ...params, per_page: 100 },
    { action: "read the rules of branches", accept: [403] },
  );
  if (rules.status === 403) return { protection: undefined, requiredChecks: [] };
  const list = parse(branchRulesSchema, rules.data, rulesRoute);
  const types = new Set(list.map((r) => r.type));
  const requiredChecks: RequiredCheck[] = list
    .filter((r) => r.type === "required_status_checks")
    .flatMap(
      (r) => (r.parameters?.required_status_checks as { context: string; integration_id?: number }[]) ?? [],
    )
    .map((c) => ({ context: c.context, appId: c.integration_id ?? null, via: "ruleset" }));
  const rulesetForce = types.has("non_fast_forward");
  const rulesetDelete = types.has("deletion");

  const classicRoute = "GET /repos/{owner}/{repo}/branches/{branch}/protection";
  const classic = await gh.client.request<unknown>(classicRoute, params, {
    action: "read branch protection",
    accept: [403, 404],
  });
  const via: string[] = [];
  if (rulesetForce || rulesetDelete) {
    via.push(
      `ruleset blocks ${[rulesetForce && "force pushes", rulesetDelete && "deletion"].filter(Boolean).join(" and ")}`,
    );
  }
  if (classic.status === 403) {
    if (!rulesetForce) return { protection: undefined, requiredChecks };
    return {
      protection: {
        protected: true,
        forcePushBlocked: true,
        deletionBlocked: rulesetDelete ? true : null,
        detail: `${via.join("; ")} (classic protection not readable: ${cannotTell})`,
      },
      requiredChecks,
    };
  }
  let classicForce = false;
  let classicDelete = false;
  if (classic.status === 200) {
    const c = parse(classicProtectionSchema, classic.data, classicRoute);
    classicForce = c.allow_force_pushes?.enabled !== true;
    classicDelete = c.allow_deletions?.enabled !== true;
    for (const check of c.required_status_checks?.checks ?? []) {
      requiredChecks.push({ context: check.context, appId: check.app_id ?? null, via: "classic protection" });
    }
    via.push(
      `classic protection ${classicForce ? "blocks" : "allows"} force pushes, ${classicDelete ? "blocks" : "allows"} deletion`,
    );
  }
  const forcePushBlocked = rulesetForce || classicForce;
  return {
    protection: {
      protected: forcePushBlocked,
      forcePushBlocked,
      deletionBlocked: rulesetDelete || classicDelete,
      detail: via.length > 0 ? via.join("; ") : "no ruleset or branch protection applies",
    },
    requiredChecks,
  };
}

export async function branchProtection(gh: GhContext, branch: string): Promise<BranchProtection | undefined> {
  return (await branchRules(gh, branch)).protection;
}
