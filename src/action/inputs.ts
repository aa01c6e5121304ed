/**
 * The GitHub Action's inputs, as the runner passes them: `INPUT_<NAME>` environment variables
 * (the name upper-cased, spaces as "_"), set to "" for an input the workflow leaves out.
 * Pure, so the mapping to guard's arguments is tested without a runner.
 */
import { resolve } from "node:path";
import { UsageError } from "../errors.js";

export interface ActionRun {
  /** The stage guard is asked about. */
  stage: string;
  /** optout's arguments: `guard … --format github -- <stage>`. */
  argv: string[];
  /** Where guard runs (the checkout). */
  cwd: string;
}

const input = (env: Record<string, string | undefined>, name: string) =>
  (env[`INPUT_${name.toUpperCase().replaceAll(" ", "_")}`] ?? "").trim();

/** GitHub's boolean input rule (as in @actions/core getBooleanInput): these spellings, nothing else. */
function booleanInput(env: Record<string, string | undefined>, name: string): boolean {
  const v = input(env, name);
  if (v === "" || ["false", "False", "FALSE"].includes(v)) return false;
  if (["true", "True", "TRUE"].includes(v)) return true;
  throw new UsageError(`input ${name} is "${v}", not a boolean`, {
    hint: `set ${name}: true or ${name}: false in the step's with:`,
  });
}

export function actionRun(env: Record<string, string | undefined>, cwd: string): ActionRun {
  // A job named after its stage needs no input: GITHUB_JOB is the job's id (a matrix adds nothing to it).
  const stage = input(env, "stage") || (env.GITHUB_JOB ?? "").trim();
  if (!stage) {
    throw new UsageError("no stage to guard", {
      hint: "set the stage in the step's with: (stage: lint)",
    });
  }
  const argv = ["guard", "--format", "github"];
  for (const name of ["ref", "sha", "config", "provider", "repo"]) {
    const v = input(env, name);
    if (v) argv.push(`--${name}`, v);
  }
  if (booleanInput(env, "strict")) argv.push("--strict");
  if (booleanInput(env, "verbose")) argv.push("--verbose");
  argv.push("--", stage);
  const dir = input(env, "working-directory");
  return { stage, argv, cwd: dir ? resolve(cwd, dir) : cwd };
}
