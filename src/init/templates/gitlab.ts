/**
 * GitLab CI: an include file with the `.optout-guard` job template, the scheduled `optout expire`
 * job and the artifact-only deploy jobs `optout rollout` starts (reading contract.ts's variables),
 * plus the lines for .gitlab-ci.yml. GitLab runs before_script and script in one shell, so the
 * template's `exit 0` ends a waived job successfully without running its script.
 */
import { byMechanism, installCommand, lines, type PipelineFile, type TemplateInput } from "./common.js";

export const GITLAB_INCLUDE_PATH = ".gitlab/optout.yml";

/** `- if: $OPTOUT_ARTIFACT` → never: a rollout pipeline deploys a built artifact, so the build is bypassed. */
const notInRollouts = [
  "    - if: $OPTOUT_ARTIFACT # an optout rollout deploys an artifact already built: skip this",
  "      when: never",
];

export function gitlabInclude(input: TemplateInput): string {
  const forge = input.provider === "gitlab";
  return lines(
    "# optout for GitLab CI: the guard template, the scheduled optout expire, and the jobs of the",
    "# artifact-only deploy pipeline `optout rollout` creates. Include it from .gitlab-ci.yml:",
    "#   include:",
    `#     - local: ${GITLAB_INCLUDE_PATH}`,
    "",
    "# A job that extends .optout-guard first asks `optout guard <job name>` ($OPTOUT_GUARD_STAGE",
    "# when the job is named differently from the stage) and ends successfully without running its",
    "# script when a signed, unexpired override waives the stage. guard exits 0 (skip), 1 (run) or",
    "# 2 and more (an error, which never skips: fail closed). The job's image needs Node.js 20+.",
    "# A job with its own before_script keeps the guard with: !reference [.optout-guard, before_script]",
    ".optout-guard:",
    "  variables:",
    '    OPTOUT_GUARD_STAGE: "" # empty: the job\'s name is the stage',
    "  before_script:",
    `    - command -v optout >/dev/null || ${installCommand(input.version)}`,
    "    - |",
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
    "",
    "# Ends overrides whose TTL has passed. Create a pipeline schedule (every 15 minutes) with the",
    "# variable SCHEDULED_TASK=optout-expire, and these CI/CD variables (masked, protected):",
    "#   OPTOUT_SIGNING_KEY   type File: an ed25519 private key without passphrase whose public",
    "#                        key is in .optout/allowed_signers on the default branch",
    forge
      ? "#   OPTOUT_GITLAB_TOKEN  a token of the user that key belongs to: scopes api, write_repository"
      : "#   OPTOUT_GITLAB_TOKEN  a token with write_repository, to push ledger records",
    "optout-expire:",
    "  image: node:20",
    "  rules:",
    '    - if: $CI_PIPELINE_SOURCE == "schedule" && $SCHEDULED_TASK == "optout-expire"',
    "  script:",
    `    - ${installCommand(input.version)}`,
    `    - git remote set-url origin "https://oauth2:\${OPTOUT_GITLAB_TOKEN}@\${CI_SERVER_HOST}/\${CI_PROJECT_PATH}.git"`,
    "    - optout expire",
    "",
    "# `optout rollout --artifact <ref> --env <environment>` creates a pipeline (on rollout.ref, else the",
    "# default branch) with OPTOUT_ARTIFACT, OPTOUT_ENVIRONMENT, OPTOUT_RECORD and OPTOUT_SKIP (a comma",
    "# list of stages; unset when empty). Keep your build jobs out of it: `- if: $OPTOUT_ARTIFACT`, `when: never`.",
    "",
    "# A stage the policy lists in rollout.skippable: runs unless `optout rollout --skip e2e`.",
    "optout-e2e:",
    "  stage: test",
    "  rules:",
    "    - if: $OPTOUT_SKIP =~ /(^|,)e2e(,|$)/",
    "      when: never",
    "    - if: $OPTOUT_ARTIFACT && $OPTOUT_ENVIRONMENT",
    "  script:",
    '    - ./scripts/e2e.sh "$OPTOUT_ENVIRONMENT"',
    "",
    "optout-deploy:",
    "  stage: deploy",
    "  rules:",
    "    - if: $OPTOUT_ARTIFACT && $OPTOUT_ENVIRONMENT",
    "  environment:",
    "    name: $OPTOUT_ENVIRONMENT",
    "  script:",
    '    - echo "optout record $OPTOUT_RECORD: deploying $OPTOUT_ARTIFACT to $OPTOUT_ENVIRONMENT"',
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
    '    - echo "optout record $OPTOUT_RECORD: failing over to $OPTOUT_FAILOVER_TARGET"',
    `    - ./scripts/failover.sh "$OPTOUT_FAILOVER_TARGET" "\${OPTOUT_ENVIRONMENT:-}" # your switch-over command`,
  );
}

/** What goes into .gitlab-ci.yml: the include and one job per guarded or variable stage. */
export function gitlabCi(input: TemplateInput): string {
  const m = byMechanism(input.stages);
  return lines(
    "include:",
    `  - local: ${GITLAB_INCLUDE_PATH}`,
    ...m.status.map(
      (s) =>
        `# ${s.name} (mechanism "status"): nothing to add; optout posts a success status "${s.context ?? s.name}" on the commit.`,
    ),
    ...m.guard.flatMap((s) => [
      "",
      `${s.name}:`,
      "  extends: .optout-guard",
      "  image: node:20",
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
    {
      path: GITLAB_INCLUDE_PATH,
      kind: "file",
      title: "guard template, scheduled expire, rollout jobs",
      content: gitlabInclude(input),
    },
    {
      path: ".gitlab-ci.yml",
      kind: "snippet",
      title: "include it and guard each stage's job",
      content: gitlabCi(input),
    },
  ];
}
