/**
 * `optout doctor` on GitLab: the token, protected branches (wildcard rules included) for the
 * audit and default branches, and how the project lets optout's pipelines be told what to do.
 */
import type { BranchProtection, DoctorCheck, DoctorContext } from "../../core/ports.js";
import { forgeChecks } from "../doctor.js";
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

export async function gitlabDoctor(
  _deps: GitLabDeps,
  forge: Forge,
  c: DoctorContext,
): Promise<DoctorCheck[]> {
  return forgeChecks(
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
}
