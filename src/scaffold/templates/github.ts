/**
 * GitHub Actions: guarded jobs, the scheduled `optout expire`, and the workflow_dispatch skeletons
 * `optout rollout` and `optout failover` dispatch. The dispatch inputs are exactly contract.ts's:
 * GitHub answers 422 to a dispatch carrying an input the workflow does not declare.
 * Inputs reach shell steps through `env:`, never `${{ }}` inside `run:`, so an input cannot inject shell.
 */
import type { GITHUB_FAILOVER_INPUTS, GITHUB_ROLLOUT_INPUTS } from "../contract.js";
import {
  actionRef,
  byMechanism,
  CHECKOUT,
  installCommand,
  jobId,
  lines,
  NODE_MAJOR,
  type PipelineFile,
  SETUP_NODE,
  type TemplateInput,
} from "./common.js";

/** A GitHub Actions expression, `${{ e }}`. */
const ex = (e: string) => `\${{ ${e} }}`;

const nodeSetup = (indent: string, condition?: string): string[] => [
  `${indent}- uses: ${SETUP_NODE}`,
  ...(condition ? [`${indent}  if: ${condition}`] : []),
  `${indent}  with:`,
  `${indent}    node-version: ${NODE_MAJOR}`,
];

function guardJob(stage: string, version: string): string[] {
  const run = "steps.optout.outputs.skip != 'true'";
  return [
    `  ${jobId(stage)}:`,
    "    runs-on: ubuntu-latest",
    "    steps:",
    `      - uses: ${CHECKOUT}`,
    `      - uses: ${actionRef(version)} # optout guard: output skip is "true" when waived`,
    "        id: optout",
    "        with:",
    `          stage: ${stage}`,
    ...nodeSetup("      ", run),
    `      - name: ${stage}`,
    `        if: ${run}`,
    `        run: npm run ${stage} # the stage's work`,
  ];
}

function variableJob(stage: string, variable: string): string[] {
  return [
    `  ${jobId(stage)}:`,
    `    # mechanism "variable": optout sets the repository variable ${variable}=true while waived.`,
    `    if: vars.${variable} != 'true'`,
    "    runs-on: ubuntu-latest",
    "    steps:",
    `      - uses: ${CHECKOUT}`,
    ...nodeSetup("      "),
    `      - run: npm run ${stage} # the stage's work`,
  ];
}

/** Whether a workflow needs anything for these stages (status stages need nothing in it). */
export function needsGuardWorkflow(input: TemplateInput): boolean {
  const m = byMechanism(input.stages);
  return m.guard.length + m.variable.length > 0;
}

/**
 * A workflow with one job per guarded or variable stage (paste the jobs into your own). Guarded
 * jobs use the Action (action.yml): no install step, the answer as the step output `skip`.
 */
export function guardWorkflow(input: TemplateInput): string {
  const m = byMechanism(input.stages);
  return lines(
    '# Each job below asks optout before doing its work. The optout step\'s output skip is "true"',
    '# when a signed, unexpired override waives the stage for this ref or commit, and "false"',
    "# otherwise, also when guard fails (a warning says so): an error never skips (fail closed).",
    ...m.status.map(
      (s) =>
        `# ${s.name} (mechanism "status"): nothing to add; optout posts a success status "${s.context ?? s.name}" on the commit.`,
    ),
    "name: ci",
    "on:",
    "  push:",
    "  pull_request:",
    "permissions:",
    "  contents: read",
    "jobs:",
    ...m.guard.flatMap((s) => guardJob(s.name, input.version)),
    ...m.variable.flatMap((s) => variableJob(s.name, s.variable ?? "")),
  );
}

export function expireWorkflow(input: TemplateInput): string {
  const forge = input.provider === "github";
  return lines(
    "# Ends optout overrides whose TTL has passed, every 15 minutes. Secrets it needs:",
    "#   OPTOUT_BOT_SIGNING_KEY  an ed25519 private key without passphrase whose public key is in",
    "#                           .optout/allowed_signers on the default branch",
    forge && "#   OPTOUT_GITHUB_TOKEN     a token of the user that key belongs to (its login is the key's",
    forge && "#                           principal); the workflow's own GITHUB_TOKEN cannot read GET /user",
    "name: optout expire",
    "on:",
    "  schedule:",
    '    - cron: "*/15 * * * *"',
    "  workflow_dispatch:",
    "permissions:",
    "  contents: write # push records to the audit branch",
    "concurrency:",
    "  group: optout-expire",
    "  cancel-in-progress: false",
    "jobs:",
    "  expire:",
    "    runs-on: ubuntu-latest",
    "    timeout-minutes: 10",
    "    steps:",
    `      - uses: ${CHECKOUT}`,
    ...nodeSetup("      "),
    `      - run: ${installCommand(input.version)}`,
    "      - name: signing key",
    "        run: |",
    "          umask 077",
    '          printf \'%s\\n\' "$KEY" > "$RUNNER_TEMP/optout_key"',
    "        env:",
    `          KEY: ${ex("secrets.OPTOUT_BOT_SIGNING_KEY")}`,
    "      - run: optout expire",
    "        env:",
    `          OPTOUT_SIGNING_KEY: ${ex("runner.temp")}/optout_key`,
    forge && `          OPTOUT_GITHUB_TOKEN: ${ex("secrets.OPTOUT_GITHUB_TOKEN")}`,
  );
}

function dispatchInputs(spec: Record<string, [required: boolean, description: string]>): string[] {
  return Object.entries(spec).flatMap(([name, [required, description]]) => [
    `      ${name}:`,
    `        description: ${description}`,
    `        required: ${required}`,
    "        type: string",
    ...(required ? [] : ['        default: ""']),
  ]);
}

/** The rollout workflow: `optout rollout --artifact … --env …` dispatches it (policy rollout.workflow). */
export function deployWorkflow(): string {
  const inputs: Record<(typeof GITHUB_ROLLOUT_INPUTS)[number], [boolean, string]> = {
    artifact: [true, "digest-pinned artifact to deploy"],
    environment: [true, "environment to deploy to"],
    skip: [false, "comma list of stages to skip (optout rollout --skip)"],
    optout_record: [false, "id of the optout ledger record of this rollout"],
  };
  return lines(
    '# Artifact-only deploy, dispatched by `optout rollout` (policy: "rollout": { "workflow": "optout-deploy.yml" }).',
    "# optout sends exactly these inputs and finds the run by the record id in its run-name.",
    "name: optout deploy",
    `run-name: deploy ${ex("inputs.artifact")} to ${ex("inputs.environment")} (${ex("inputs.optout_record")})`,
    "on:",
    "  workflow_dispatch:",
    "    inputs:",
    ...dispatchInputs(inputs),
    "permissions:",
    "  contents: read",
    "concurrency:",
    `  group: deploy-${ex("inputs.environment")}`,
    "  cancel-in-progress: false",
    "jobs:",
    "  # A stage the policy lists in rollout.skippable: skipped when `optout rollout --skip e2e` says so.",
    "  e2e:",
    `    if: ${ex("!contains(format(',{0},', inputs.skip), ',e2e,')")}`,
    "    runs-on: ubuntu-latest",
    "    steps:",
    `      - uses: ${CHECKOUT}`,
    '      - run: ./scripts/e2e.sh "$ENVIRONMENT"',
    "        env:",
    `          ENVIRONMENT: ${ex("inputs.environment")}`,
    "  deploy:",
    "    needs: e2e",
    `    if: ${ex("!cancelled() && (needs.e2e.result == 'success' || needs.e2e.result == 'skipped')")}`,
    "    runs-on: ubuntu-latest",
    "    # The environment's protection rules (required reviewers, allowed branches) apply to the deploy.",
    `    environment: ${ex("inputs.environment")}`,
    "    steps:",
    `      - uses: ${CHECKOUT}`,
    '      - run: ./scripts/deploy.sh "$ARTIFACT" "$ENVIRONMENT" # your deploy command',
    "        env:",
    `          ARTIFACT: ${ex("inputs.artifact")}`,
    `          ENVIRONMENT: ${ex("inputs.environment")}`,
    `          OPTOUT_RECORD: ${ex("inputs.optout_record")}`,
  );
}

/** The failover workflow: `optout failover --to …` dispatches it after setting the variable (policy failover.workflow). */
export function failoverWorkflow(): string {
  const inputs: Record<(typeof GITHUB_FAILOVER_INPUTS)[number], [boolean, string]> = {
    target: [true, "region, cluster or environment to make active"],
    environment: [false, "environment the failover is for (empty when the policy has none)"],
    optout_record: [false, "id of the optout ledger record of this failover"],
  };
  return lines(
    '# Dispatched by `optout failover --to <target>` (policy: "failover": { "workflow": "optout-failover.yml" }).',
    "name: optout failover",
    `run-name: failover to ${ex("inputs.target")} (${ex("inputs.optout_record")})`,
    "on:",
    "  workflow_dispatch:",
    "    inputs:",
    ...dispatchInputs(inputs),
    "permissions:",
    "  contents: read",
    "concurrency:",
    "  group: failover",
    "  cancel-in-progress: false",
    "jobs:",
    "  failover:",
    "    runs-on: ubuntu-latest",
    "    # The environment's protection rules (required reviewers, allowed branches) apply to the run;",
    "    # an empty environment (a policy without environments) is none.",
    `    environment: ${ex("inputs.environment")}`,
    "    steps:",
    `      - uses: ${CHECKOUT}`,
    '      - run: ./scripts/failover.sh "$TARGET" "$ENVIRONMENT" # your switch-over command',
    "        env:",
    `          TARGET: ${ex("inputs.target")}`,
    `          ENVIRONMENT: ${ex("inputs.environment")}`,
    `          OPTOUT_RECORD: ${ex("inputs.optout_record")}`,
  );
}

export function githubFiles(input: TemplateInput): PipelineFile[] {
  return [
    {
      path: ".github/workflows/optout-expire.yml",
      kind: "file",
      title: "scheduled optout expire",
      content: expireWorkflow(input),
    },
    {
      path: ".github/workflows/optout-deploy.yml",
      kind: "file",
      title: 'artifact-only deploy for optout rollout (set "rollout.workflow": "optout-deploy.yml")',
      content: deployWorkflow(),
    },
    ...(needsGuardWorkflow(input)
      ? [
          {
            path: ".github/workflows/<your ci>.yml",
            kind: "snippet" as const,
            title: "guard each stage's job",
            content: guardWorkflow(input),
          },
        ]
      : []),
  ];
}
