/**
 * GitLab CI: two CI/CD components in optout's own repository (templates/guard.yml: the
 * `.optout-guard` job template; templates/expire.yml: the scheduled `optout expire` job), the
 * jobs of the artifact-only deploy pipeline `optout rollout` starts (a file of the user's, reading
 * contract.ts's variables), and the lines for .gitlab-ci.yml. GitLab runs before_script and script
 * in one shell, so the guard's `exit 0` ends a waived job successfully without running its script.
 *
 * Components follow GitLab's conventions: a `spec: inputs` header, no global keywords, and what
 * differs between pipelines (a job's stage, the optout version) as inputs, never hard-coded.
 * A script item never contains ": " outside a block scalar: YAML would read it as a mapping, and
 * GitLab rejects the whole pipeline.
 */
import {
  byMechanism,
  componentRef,
  lines,
  NODE_MAJOR,
  type PipelineFile,
  type TemplateInput,
} from "./common.js";

/** The components, where they live in optout's repository (GitLab's layout: templates/<name>.yml). */
export const GITLAB_COMPONENTS = { guard: "templates/guard.yml", expire: "templates/expire.yml" };
/** The rollout jobs: a file of the user's, since its scripts are theirs. */
export const GITLAB_ROLLOUT_PATH = ".gitlab/optout-rollout.yml";

/** npm's install of optout@<version>, quiet: one tarball, no dependency tree. */
const install = (version: string) =>
  `npm install --global --no-audit --no-fund --loglevel=error "optout@${version}"`;

function versionInput(version: string): string[] {
  return [
    "    version:",
    "      description: The optout version to install (npm) when the job's image has none",
    `      default: "${version}"`,
  ];
}

/** templates/guard.yml: the `.optout-guard` job template. */
export function guardComponent(version: string): string {
  return lines(
    "# optout guard for GitLab CI/CD. A job that extends .optout-guard asks `optout guard` about its",
    "# stage first, and ends successfully without running its script when a signed, unexpired",
    "# override waives the stage for this ref or commit. guard exits 0 (skip), 1 (run) or 2 and more",
    "# (an error, which never skips: fail closed, the script runs). The stage is $OPTOUT_GUARD_STAGE,",
    "# else the job's name: set it in a job GitLab copies (parallel: `lint 1/3`, matrix: `lint: [a]`).",
    "# The job's image needs Node.js 20 or later; optout is installed when the image has none.",
    "# A job with its own before_script keeps the guard with: !reference [.optout-guard, before_script]",
    "spec:",
    "  inputs:",
    ...versionInput(version),
    "---",
    ".optout-guard:",
    "  variables:",
    '    OPTOUT_GUARD_STAGE: "" # empty: the job\'s name is the stage',
    "  before_script:",
    "    - |",
    `      command -v optout >/dev/null || ${install("$[[ inputs.version ]]")} >&2 || true`,
    `      stage="\${OPTOUT_GUARD_STAGE:-$CI_JOB_NAME}"`,
    "      code=0",
    '      optout guard "$stage" || code=$?',
    '      if [ "$code" -eq 0 ]; then',
    '        echo "optout: $stage is waived; not running this job\'s script"',
    "        exit 0",
    "      fi",
    '      if [ "$code" -gt 1 ]; then',
    '        echo "optout: guard failed (exit $code); running $stage (fail closed)" >&2',
    "      fi",
  );
}

/** templates/expire.yml: the scheduled `optout expire` job. */
export function expireComponent(version: string): string {
  return lines(
    "# Ends optout overrides whose TTL has passed. Create a pipeline schedule (every 15 minutes) with",
    "# the variable SCHEDULED_TASK=optout-expire, and these CI/CD variables (masked, protected):",
    "#   OPTOUT_SIGNING_KEY   type File: an ed25519 private key without passphrase whose public",
    "#                        key is in .optout/allowed_signers on the default branch",
    "#   OPTOUT_GITLAB_TOKEN  a token with write_repository, to push ledger records; with the gitlab",
    "#                        provider, a token of the user that key belongs to, with api too",
    "# The push goes to this project on this GitLab, at its own scheme, host, port and path.",
    "spec:",
    "  inputs:",
    "    stage:",
    "      description: The stage of your pipeline the expire job runs in",
    "      default: test",
    "    image:",
    "      description: The job's image (it needs Node.js 20 or later and git)",
    `      default: "node:${NODE_MAJOR}"`,
    ...versionInput(version),
    "---",
    "optout-expire:",
    "  stage: $[[ inputs.stage ]]",
    "  image: $[[ inputs.image ]]",
    "  rules:",
    '    - if: $CI_PIPELINE_SOURCE == "schedule" && $SCHEDULED_TASK == "optout-expire"',
    "  script:",
    "    - |",
    `      command -v optout >/dev/null || ${install("$[[ inputs.version ]]")}`,
    `      git remote set-url origin "\${CI_SERVER_URL%%://*}://oauth2:\${OPTOUT_GITLAB_TOKEN}@\${CI_SERVER_URL#*://}/\${CI_PROJECT_PATH}.git"`,
    "      optout expire",
  );
}

/**
 * What optout passes a pipeline, as the inputs of projects that forbid pipeline variables
 * (ci_pipeline_variables_minimum_override_role no_one_allowed) and as the variables the jobs read.
 * [input, variable, what]; the inputs must be declared by .gitlab-ci.yml itself (GitLab refuses a
 * pipeline given an input its configuration does not declare).
 */
const passedValues: [string, string, string][] = [
  ["artifact", "OPTOUT_ARTIFACT", "the artifact optout rollout deploys"],
  ["environment", "OPTOUT_ENVIRONMENT", "the environment of the rollout or failover"],
  ["skip", "OPTOUT_SKIP", "the stages optout rollout --skip leaves out, comma-separated"],
  ["target", "OPTOUT_FAILOVER_TARGET", "the target optout failover switches to"],
  ["optout_record", "OPTOUT_RECORD", "the optout record that created the pipeline"],
];

/** The `spec: inputs` entries for the values optout passes, empty by default (a push pipeline). */
function passedInputs(): string[] {
  return passedValues.flatMap(([input, , what]) => [
    `    ${input}:`,
    `      description: ${what} (set by optout; empty otherwise)`,
    '      default: ""',
  ]);
}

/** The jobs of the pipeline `optout rollout` (and `optout failover`) creates (provider gitlab). */
export function gitlabRollout(): string {
  return lines(
    "# `optout rollout --artifact <ref> --env <environment>` creates a pipeline (on rollout.ref, else the",
    "# default branch) with OPTOUT_ARTIFACT, OPTOUT_ENVIRONMENT, OPTOUT_RECORD and OPTOUT_SKIP (a comma",
    "# list of stages; unset when empty). Keep your build jobs out of it: `- if: $OPTOUT_ARTIFACT`, `when: never`.",
    "# `optout failover` passes OPTOUT_FAILOVER_TARGET, OPTOUT_ENVIRONMENT and OPTOUT_RECORD.",
    "# Where the project forbids pipeline variables, optout passes the same values as the pipeline's",
    "# inputs instead: .gitlab-ci.yml declares them and hands them to this file, which sets the",
    "# variables from them (a pipeline variable of the same name wins over these). The pipeline is",
    "# named with its record (workflow:name), which is how `optout sync` finds it.",
    "# Include it from .gitlab-ci.yml with the stages of your pipeline the jobs run in.",
    "spec:",
    "  inputs:",
    "    e2e-stage:",
    "      description: The stage the end-to-end tests run in",
    "      default: test",
    "    deploy-stage:",
    "      description: The stage the deploy runs in",
    "      default: deploy",
    ...passedInputs(),
    "---",
    "variables:",
    ...passedValues.map(([input, variable]) => `  ${variable}: $[[ inputs.${input} ]]`),
    "",
    "workflow:",
    "  name: $OPTOUT_RECORD # empty outside optout's pipelines: GitLab then names none",
    "",
    "# A stage the policy lists in rollout.skippable: runs unless `optout rollout --skip e2e`.",
    "optout-e2e:",
    "  stage: $[[ inputs.e2e-stage ]]",
    "  rules:",
    "    - if: $OPTOUT_SKIP =~ /(^|,)e2e(,|$)/",
    "      when: never",
    "    - if: $OPTOUT_ARTIFACT && $OPTOUT_ENVIRONMENT",
    "  script:",
    '    - ./scripts/e2e.sh "$OPTOUT_ENVIRONMENT"',
    "",
    "optout-deploy:",
    "  stage: $[[ inputs.deploy-stage ]]",
    "  rules:",
    "    - if: $OPTOUT_ARTIFACT && $OPTOUT_ENVIRONMENT",
    "  environment:",
    "    name: $OPTOUT_ENVIRONMENT",
    "  script:",
    '    - echo "Deploying $OPTOUT_ARTIFACT to $OPTOUT_ENVIRONMENT (optout record $OPTOUT_RECORD)"',
    '    - ./scripts/deploy.sh "$OPTOUT_ARTIFACT" "$OPTOUT_ENVIRONMENT" # your deploy command',
  );
}

/** The failover pipeline's job (policy failover.variable; GitLab sets it, then starts this pipeline). */
export function gitlabFailoverJob(): string {
  return lines(
    "# `optout failover --to <target>` sets the policy's failover variable, then creates a pipeline",
    "# with OPTOUT_FAILOVER_TARGET, OPTOUT_ENVIRONMENT (unset when empty) and OPTOUT_RECORD.",
    "optout-failover:",
    "  rules:",
    "    - if: $OPTOUT_FAILOVER_TARGET",
    "  script:",
    '    - echo "Failing over to $OPTOUT_FAILOVER_TARGET (optout record $OPTOUT_RECORD)"',
    `    - ./scripts/failover.sh "$OPTOUT_FAILOVER_TARGET" "\${OPTOUT_ENVIRONMENT:-}" # your switch-over command`,
  );
}

/** `- if: $OPTOUT_ARTIFACT` → never: a rollout pipeline deploys a built artifact, so the build is bypassed. */
const notInRollouts = [
  "    - if: $OPTOUT_ARTIFACT # an optout rollout deploys an artifact already built: skip this",
  "      when: never",
];

/** What goes into .gitlab-ci.yml: the includes and one job per guarded or variable stage. */
export function gitlabCi(input: TemplateInput): string {
  const m = byMechanism(input.stages);
  const forge = input.provider === "gitlab";
  return lines(
    forge && "# The values optout passes its pipelines where the project forbids pipeline variables.",
    forge && "spec:",
    forge && "  inputs:",
    ...(forge ? passedInputs() : []),
    forge && "---",
    "include:",
    `  - component: ${componentRef("guard", input.version)}`,
    `  - component: ${componentRef("expire", input.version)}`,
    "    inputs:",
    "      stage: test # a stage of your pipeline",
    forge && `  - local: ${GITLAB_ROLLOUT_PATH}`,
    forge && "    inputs:",
    forge && "      e2e-stage: test",
    forge && "      deploy-stage: deploy",
    ...(forge ? passedValues.map(([name]) => `      ${name}: $[[ inputs.${name} ]]`) : []),
    ...m.status.map(
      (s) =>
        `# ${s.name} (mechanism "status"): nothing to add; optout posts a success status "${s.context ?? s.name}" on the commit.`,
    ),
    ...m.guard.flatMap((s) => [
      "",
      `${s.name}:`,
      "  extends: .optout-guard",
      `  image: node:${NODE_MAJOR}`,
      "  variables:",
      `    OPTOUT_GUARD_STAGE: ${s.name} # the stage this job guards, whatever the job is named`,
      "  rules:",
      ...notInRollouts,
      "    - when: on_success",
      "  script:",
      `    - npm run ${s.name} # the stage's work`,
    ]),
    ...m.variable.flatMap((s) => [
      "",
      `${s.name}:`,
      `  # mechanism "variable": optout sets the project variable ${s.variable} to "true" while waived.`,
      `  image: node:${NODE_MAJOR}`,
      "  rules:",
      `    - if: $${s.variable} == "true"`,
      "      when: never",
      ...notInRollouts,
      "    - when: on_success",
      "  script:",
      `    - npm run ${s.name} # the stage's work`,
    ]),
  );
}

export function gitlabFiles(input: TemplateInput): PipelineFile[] {
  return [
    ...(input.provider === "gitlab"
      ? [
          {
            path: GITLAB_ROLLOUT_PATH,
            kind: "file" as const,
            title: "the jobs of the deploy pipeline optout rollout creates",
            content: gitlabRollout(),
          },
        ]
      : []),
    {
      path: ".gitlab-ci.yml",
      kind: "snippet",
      title: "include optout's components and guard each stage's job",
      content: gitlabCi(input),
    },
  ];
}
