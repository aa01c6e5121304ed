/**
 * What the pipeline templates share. A template is a pure function of its input, so `optout init`,
 * the files in examples/ and the snippets in docs/ (both written by scripts/gen-docs.mjs) are the
 * same text, and the tests that run the docs' snippets test what init writes.
 */
import type { ProviderName } from "../../core/policy.js";
import { OPTOUT_REPOSITORY } from "../../version.js";
import type { StageAnswer } from "../policy.js";

export interface PipelineFile {
  /** Where it goes in the repository (for "file"), or a label (for "snippet"). */
  path: string;
  /** "file": init writes it with --write; "snippet": text to paste into a file of yours. */
  kind: "file" | "snippet";
  /** One line on what it is for. */
  title: string;
  content: string;
}

export interface TemplateInput {
  provider: ProviderName;
  stages: StageAnswer[];
  /** The optout version pipelines install (pinned: a pipeline should not change under you). */
  version: string;
}

/** `npm install --global optout@<version>`: one tarball, no dependency tree (about a second). */
export function installCommand(version: string): string {
  return `npm install --global optout@${version}`;
}

/**
 * A release is tagged v<version> for the Action and <version> for the components (GitLab's
 * catalog takes plain semantic versions); both pin the same optout.
 */
export { OPTOUT_REPOSITORY };

export function actionRef(version: string): string {
  return `${OPTOUT_REPOSITORY.github}@v${version}`;
}

/** `$CI_SERVER_FQDN/<project>/<component>@<version>`: a component of this GitLab instance. */
export function componentRef(component: string, version: string): string {
  return `$CI_SERVER_FQDN/${OPTOUT_REPOSITORY.gitlab}/${component}@${version}`;
}

/** The actions every shipped workflow uses: the majors that run on GitHub's Node 24 runtime. */
export const CHECKOUT = "actions/checkout@v7";
export const SETUP_NODE = "actions/setup-node@v7";
/** Node.js for jobs that run Node (optout itself needs 20 or later): the current LTS. */
export const NODE_MAJOR = 24;

/** A GitHub Actions job id from a stage name (ids allow letters, digits, "_" and "-"). */
export function jobId(stage: string): string {
  const id = stage.replace(/[^A-Za-z0-9_-]/g, "-");
  return /^[A-Za-z_]/.test(id) ? id : `_${id}`;
}

/** The stages a template must say something about, by mechanism. */
export function byMechanism(stages: readonly StageAnswer[]) {
  return {
    guard: stages.filter((s) => s.mechanism === "guard"),
    variable: stages.filter((s) => s.mechanism === "variable"),
    status: stages.filter((s) => s.mechanism === "status"),
  };
}

/** Lines joined with "\n" and ending in one. */
export function lines(...ls: (string | false | undefined)[]): string {
  return `${ls.filter((l): l is string => typeof l === "string").join("\n")}\n`;
}
