/**
 * Shapes of names and values. Shared by the full schema and guard's light reader (policy/light.ts),
 * so both refuse a remote or branch that git would take for an option ("-…"), an allowed_signers
 * path that leaves the repository, and a stage name or repo the schema would refuse.
 */
export const gitName = /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*\/$)(?!.*\.lock$)[A-Za-z0-9._/-]+$/;
export const repoPath = /^(?![/\\])(?!.*(^|\/)\.\.(\/|$))(?!.*\\)[^\0]+$/;
/** Stage and group names: safe in paths, ledger records and CLI arguments. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** CI variable names (stage `variable`, failover `variable`, flag names); also env var names. */
export const VARIABLE_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** The policy's `repo`: owner/name (GitHub) or group/sub/project (GitLab). */
export const REPO_PATTERN = /^[\w.-]+(?:\/[\w.-]+)+$/;

/** Which stage mechanisms a provider can carry out: plain git has no statuses or CI variables. */
export function mechanismNeedsForge(mechanism: string): boolean {
  return mechanism !== "guard";
}
