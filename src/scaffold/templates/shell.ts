/**
 * Any CI (Jenkins, Buildkite, a cron job, a laptop): a POSIX shell wrapper around `optout guard`.
 * guard exits 0 (waived: skip the stage), 1 (not waived: run it) or ≥ 2 (an error). An error never
 * skips: the stage runs, with a warning, so a broken guard cannot wave unchecked work through.
 */
import { lines, type PipelineFile, type TemplateInput } from "./common.js";

export const GUARD_SCRIPT_PATH = ".optout/guard.sh";

export function guardScript(): string {
  return lines(
    "#!/bin/sh",
    "# Runs a pipeline stage unless optout waives it for this ref or commit:",
    "#   sh .optout/guard.sh <stage> <command> [args...]",
    "# optout guard: exit 0 = waived (skip), 1 = not waived (run), 2 or more = error (run: fail closed).",
    'if [ "$#" -lt 2 ]; then',
    '  echo "usage: $0 <stage> <command> [args...]" >&2',
    "  exit 2",
    "fi",
    "stage=$1",
    "shift",
    "code=0",
    'optout guard "$stage" >&2 || code=$?',
    'if [ "$code" -eq 0 ]; then',
    '  echo "optout: $stage is waived; not running: $*" >&2',
    "  exit 0",
    "fi",
    'if [ "$code" -ne 1 ]; then',
    '  echo "optout: guard failed (exit $code); running $stage anyway (fail closed)" >&2',
    "fi",
    'exec "$@"',
  );
}

/** How a job calls the wrapper, and the schedule for `optout expire`. */
export function shellUsage(input: TemplateInput): string {
  const guarded = input.stages.filter((s) => s.mechanism === "guard").map((s) => s.name);
  const examples = (guarded.length ? guarded : ["lint"]).map(
    (s) => `sh ${GUARD_SCRIPT_PATH} ${s} npm run ${s}    # replace "npm run ${s}" with the stage's command`,
  );
  return lines(
    "# In each job (the checkout must have the origin remote; optout fetches what it needs):",
    ...examples,
    "",
    "# Every 15 minutes, somewhere with a signing key listed in .optout/allowed_signers",
    "# and the right to push to the audit branch (cron shown; any scheduler does):",
    "*/15 * * * * cd /path/to/clone && OPTOUT_SIGNING_KEY=$HOME/.ssh/optout_bot optout expire",
  );
}

export function shellFiles(input: TemplateInput): PipelineFile[] {
  return [
    {
      path: GUARD_SCRIPT_PATH,
      kind: "file",
      title: "runs a stage unless optout waives it (any CI)",
      content: guardScript(),
    },
    {
      path: "your CI jobs",
      kind: "snippet",
      title: "call the wrapper from each job, and run optout expire on a schedule",
      content: shellUsage(input),
    },
  ];
}
