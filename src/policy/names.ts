/**
 * Shapes of values that reach git as arguments or paths. Shared by the full schema and guard's
 * light reader, so both refuse a remote or branch that git would take for an option ("-…") and
 * an allowed_signers path that leaves the repository.
 */
export const gitName = /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*\/$)(?!.*\.lock$)[A-Za-z0-9._/-]+$/;
export const repoPath = /^(?![/\\])(?!.*(^|\/)\.\.(\/|$))(?!.*\\)[^\0]+$/;
