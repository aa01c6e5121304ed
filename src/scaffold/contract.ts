/**
 * What a forge provider sends to the pipelines it starts, and so what the workflow files `optout
 * init` writes must accept. GitHub refuses a workflow_dispatch with an input the workflow does not
 * declare (422), and a GitLab job reading a variable nobody sends silently sees "", so the two
 * sides must agree exactly. test/docs/contract.test.ts runs the real providers against the API
 * fakes and checks what they send against these lists and against the example files.
 */

/** workflow_dispatch inputs of the rollout workflow (policy `rollout.workflow`). */
export const GITHUB_ROLLOUT_INPUTS = ["artifact", "environment", "skip", "optout_record"] as const;

/** workflow_dispatch inputs of the failover workflow (policy `failover.workflow`). */
export const GITHUB_FAILOVER_INPUTS = ["target", "environment", "optout_record"] as const;

/**
 * Pipeline variables of a rollout pipeline. Empty values are not sent at all (an unset
 * `$OPTOUT_SKIP` and an empty one read the same in `rules:`).
 */
export const GITLAB_ROLLOUT_VARIABLES = [
  "OPTOUT_ARTIFACT",
  "OPTOUT_ENVIRONMENT",
  "OPTOUT_SKIP",
  "OPTOUT_RECORD",
] as const;

/** Pipeline variables of a failover pipeline. */
export const GITLAB_FAILOVER_VARIABLES = [
  "OPTOUT_FAILOVER_TARGET",
  "OPTOUT_ENVIRONMENT",
  "OPTOUT_RECORD",
] as const;

/** Environment variables the CLI itself reads that pipeline files may set (see `optout help environment`). */
export const CLI_ENVIRONMENT = [
  "OPTOUT_SIGNING_KEY",
  "OPTOUT_GITHUB_TOKEN",
  "OPTOUT_GITLAB_TOKEN",
  "OPTOUT_DEBUG",
] as const;

/**
 * The variable `optout init` proposes for a `variable`-mechanism stage (the policy must name one;
 * the providers' hints suggest the same OPTOUT_SKIP_<STAGE>).
 */
export function skipVariable(stage: string): string {
  return `OPTOUT_SKIP_${stage.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}
