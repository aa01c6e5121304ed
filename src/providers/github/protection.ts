/**
 * Branch protection as GitHub reports it, for `optout doctor`: repository rulesets
 * (`GET /repos/{o}/{r}/rules/branches/{branch}`: the rules that apply to the branch, rule types
 * `non_fast_forward` and `deletion`) and classic branch protection
 * (`GET /repos/{o}/{r}/branches/{branch}/protection`: `allow_force_pushes.enabled`,
 * `allow_deletions.enabled`; 404 = not protected). Either one blocking force pushes protects the
 * branch. Classic protection needs admin (administration: read) to read; a 403 there with no
 * ruleset blocking force pushes means we cannot tell.
 */
import type { BranchProtection } from "../../core/ports.js";
import { type GhContext, repoParams } from "./context.js";

export type { BranchProtection };

interface Rule {
  type: string;
}

interface ClassicProtection {
  allow_force_pushes?: { enabled?: boolean };
  allow_deletions?: { enabled?: boolean };
}

const cannotTell = "the token needs admin on the repository (fine-grained: Administration read)";

export async function branchProtection(gh: GhContext, branch: string): Promise<BranchProtection | undefined> {
  const params = { ...repoParams(gh), branch };
  const rules = await gh.client.request<Rule[]>(
    "GET /repos/{owner}/{repo}/rules/branches/{branch}",
    { ...params, per_page: 100 },
    { action: "read the rules of branches", accept: [403] },
  );
  if (rules.status === 403) return undefined;
  const types = new Set((Array.isArray(rules.data) ? rules.data : []).map((r) => r.type));
  const rulesetForce = types.has("non_fast_forward");
  const rulesetDelete = types.has("deletion");

  const classic = await gh.client.request<ClassicProtection>(
    "GET /repos/{owner}/{repo}/branches/{branch}/protection",
    params,
    { action: "read branch protection", accept: [403, 404] },
  );
  const via: string[] = [];
  if (rulesetForce || rulesetDelete) {
    via.push(
      `ruleset blocks ${[rulesetForce && "force pushes", rulesetDelete && "deletion"].filter(Boolean).join(" and ")}`,
    );
  }
  if (classic.status === 403) {
    if (!rulesetForce) return undefined;
    return {
      protected: true,
      forcePushBlocked: true,
      deletionBlocked: rulesetDelete ? true : null,
      detail: `${via.join("; ")} (classic protection not readable: ${cannotTell})`,
    };
  }
  let classicForce = false;
  let classicDelete = false;
  if (classic.status === 200) {
    classicForce = classic.data.allow_force_pushes?.enabled !== true;
    classicDelete = classic.data.allow_deletions?.enabled !== true;
    via.push(
      `classic protection ${classicForce ? "blocks" : "allows"} force pushes, ${classicDelete ? "blocks" : "allows"} deletion`,
    );
  }
  const forcePushBlocked = rulesetForce || classicForce;
  return {
    protected: forcePushBlocked,
    forcePushBlocked,
    deletionBlocked: rulesetDelete || classicDelete,
    detail: via.length > 0 ? via.join("; ") : "no ruleset or branch protection applies",
  };
}
