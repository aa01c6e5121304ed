/**
 * `optout doctor` on GitLab: the token, protected branches (wildcard rules included) for the
 * audit and default branches, and how the project lets optout's pipelines be told what to do.
 */
import type { BranchProtection, DoctorCheck, DoctorContext } from "../../core/ports.js";
import { attempt, forgeChecks } from "../doctor.js";
import type { TokenSource } from "./client.js";
import type { GitLabDeps } from "./context.js";

interface Forge {
  tokenSource(): Promise<TokenSource | null>;
  branchProtection(branch: string): Promise<BranchProtection | undefined>;
}

function protectHint(branch: string, audit: boolean): string {
  return audit
    ? `GitLab: Settings → Repository → Protected branches: protect ${branch}, "Allowed to force push" off`
    : `GitLab: Settings → Repository → Protected branches: protect ${branch}, "Allowed to force push" off, "Allowed to push and merge": No one (merge requests only)`;
}

export async function gitlabDoctor(deps: GitLabDeps, forge: Forge, c: DoctorContext): Promise<DoctorCheck[]> {
  const checks = await forgeChecks(
    {
      label: "GitLab",
      tokenSource: () => forge.tokenSource(),
      noTokenHint:
        "set OPTOUT_GITLAB_TOKEN (or GITLAB_TOKEN) to a token with the api scope, or log in with `glab auth login`",
      branchProtection: (b) => forge.branchProtection(b),
      cannotTell: "the token may not read protected branches (it needs the Maintainer role)",
      protectHint,
    },
    c,
  );
  const policy = deps.ctx.policy;
  if (checks[0]?.status === "fail" || !(policy.rollout || policy.failover?.ref)) return checks;
  checks.push(await attempt("pipeline variables", () => pipelinePassing(deps)));
  return checks;
}

const rolloutInputs = 'artifact, environment, skip (default "") and optout_record';

/**
 * Which way optout's rollout and failover pipelines are told what to do: CI/CD variables, or
 * inputs where the project forbids pipeline variables (ci_pipeline_variables_minimum_override_role
 * no_one_allowed: the default for new GitLab.com projects since 17.7).
 */
async function pipelinePassing(deps: GitLabDeps): Promise<Omit<DoctorCheck, "name">> {
  const role = (await deps.api.project()).ci_pipeline_variables_minimum_override_role;
  if (role === "no_one_allowed") {
    return {
      status: "ok",
      detail: "the project forbids pipeline variables (no_one_allowed): optout passes inputs",
      hint: `the pipeline configuration must declare spec:inputs ${rolloutInputs} (failover: target, environment, optout_record)`,
    };
  }
  if (role) {
    return {
      status: role === "developer" ? "ok" : "warn",
      detail: `pipeline variables are allowed from the ${role} role: optout passes OPTOUT_* variables${role === "developer" ? "" : ", and inputs for those below it"}`,
      hint: `for inputs, the pipeline configuration must declare spec:inputs ${rolloutInputs}`,
    };
  }
  return {
    status: "warn",
    detail:
      "cannot tell whether the project allows pipeline variables (only Maintainers see the setting): optout tries variables, then inputs",
    hint: `declare spec:inputs ${rolloutInputs} so either works`,
  };
}
