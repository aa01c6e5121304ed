/**
 * The pipeline files `optout init` writes (and examples/ holds) against what optout really sends.
 * Both sides are checked: the YAML declares exactly the inputs / reads only the variables in
 * src/scaffold/contract.ts, and the real providers, driven against the API fakes, send exactly those.
 * GitHub's fake refuses a dispatch with an input the workflow does not declare, as GitHub does.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { defaultLoadersSync } from "cosmiconfig";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runFailover } from "../../src/commands/failover/run.js";
import { runRollout } from "../../src/commands/rollout/run.js";
import {
  CLI_ENVIRONMENT,
  GITHUB_FAILOVER_INPUTS,
  GITHUB_ROLLOUT_INPUTS,
  GITLAB_FAILOVER_VARIABLES,
  GITLAB_ROLLOUT_VARIABLES,
} from "../../src/scaffold/contract.js";
import { type CiSystem, pipelineFiles } from "../../src/scaffold/templates/index.js";
import { artifact as ghArtifact, type Harness, makeHarness } from "../github/harness.js";
import { type GitLabWorld, artifact as glArtifact, makeGitLabWorld } from "../gitlab/harness.js";
import { repoRoot } from "../helpers/world.js";

type Yaml = Record<string, unknown>;
const parseYaml = (text: string): Yaml => defaultLoadersSync[".yaml"]("pipeline.yml", text) as Yaml;
/** A GitLab file with a `spec:` header is two YAML documents, the header and the jobs. */
const parseYamlDocuments = (text: string): Yaml[] => text.split(/^---$/m).map((doc) => parseYaml(doc));
const example = async (path: string) => readFile(join(repoRoot, "examples", path), "utf8");

interface DispatchInput {
  required?: boolean;
}

function dispatchInputs(workflow: Yaml): Record<string, DispatchInput> {
  const on = workflow.on as { workflow_dispatch?: { inputs?: Record<string, DispatchInput> } };
  return on.workflow_dispatch?.inputs ?? {};
}

/** `inputs.<name>` used anywhere in the workflow's expressions. */
function inputsUsed(text: string): string[] {
  return [...new Set([...text.matchAll(/\binputs\.([A-Za-z_][\w-]*)/g)].map((m) => m[1]!))].sort();
}

/** GitHub evaluating a run-name such as `deploy ${{ inputs.artifact }} (${{ inputs.optout_record }})`. */
function runName(workflow: Yaml): (inputs: Record<string, string>) => string {
  const template = String(workflow["run-name"]);
  return (inputs) => template.replace(/\$\{\{\s*inputs\.(\w+)\s*\}\}/g, (_, k: string) => inputs[k] ?? "");
}

/** Every `variables:` key the YAML declares itself, at any depth. */
function declaredVariables(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const x of node) declaredVariables(x, out);
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "variables" && v && typeof v === "object") for (const name of Object.keys(v)) out.add(name);
      declaredVariables(v, out);
    }
  }
  return out;
}

/** OPTOUT_* variables a GitLab file reads (`$X`, `${X}`, `${X:-…}`). */
function optoutVariablesRead(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{?(OPTOUT_[A-Z0-9_]+)/g)].map((m) => m[1]!))].sort();
}

const sorted = (xs: readonly string[]) => [...xs].sort();

describe("GitHub workflows: the inputs declared are the inputs sent", () => {
  it("deploy: declares exactly the rollout inputs, requires only ones always sent, names runs by record", async () => {
    const text = await example("github/.github/workflows/optout-deploy.yml");
    const wf = parseYaml(text);
    expect(sorted(Object.keys(dispatchInputs(wf)))).toEqual(sorted(GITHUB_ROLLOUT_INPUTS));
    expect(inputsUsed(text)).toEqual(sorted(GITHUB_ROLLOUT_INPUTS));
    expect(String(wf["run-name"])).toContain("inputs.optout_record");
  });

  it("failover: declares exactly the failover inputs", async () => {
    const text = await example("github/.github/workflows/optout-failover.yml");
    const wf = parseYaml(text);
    expect(sorted(Object.keys(dispatchInputs(wf)))).toEqual(sorted(GITHUB_FAILOVER_INPUTS));
    expect(inputsUsed(text)).toEqual(sorted(GITHUB_FAILOVER_INPUTS));
    expect(String(wf["run-name"])).toContain("inputs.optout_record");
  });

  it("every example and every file init renders parses as YAML", async () => {
    for (const f of ["ci.yml", "optout-expire.yml", "optout-deploy.yml", "optout-failover.yml"]) {
      expect(parseYaml(await example(`github/.github/workflows/${f}`)), f).toHaveProperty("jobs");
    }
    const combos: [CiSystem, "git" | "github" | "gitlab"][] = [
      ["github", "git"],
      ["github", "github"],
      ["gitlab", "git"],
      ["gitlab", "gitlab"],
    ];
    for (const [ci, provider] of combos) {
      const files = pipelineFiles(ci, {
        provider,
        version: "1.2.3",
        stages: [
          { name: "lint", mechanism: "guard" },
          { name: "sec.scan", mechanism: "variable", variable: "OPTOUT_SKIP_SEC_SCAN" },
          { name: "build", mechanism: "status", context: "ci/build" },
        ],
      });
      for (const file of files) expect(() => parseYamlDocuments(file.content), file.path).not.toThrow();
    }
  });

  describe("against the GitHub provider and the fake GitHub API", () => {
    let h: Harness;
    beforeAll(async () => {
      h = await makeHarness();
    });
    afterAll(() => h.close());

    it("optout rollout dispatches optout-deploy.yml's inputs, and finds the run by its run-name", async () => {
      const wf = parseYaml(await example("github/.github/workflows/optout-deploy.yml"));
      const repo = h.reset();
      // No run id in the dispatch answer (older GitHub): optout must find the run by run-name.
      repo.dispatchMode = "ignore-details";
      repo.addWorkflow("deploy.yml", {
        inputs: Object.keys(dispatchInputs(wf)),
        runName: runName(wf),
        listDelay: 0,
      });
      const { f, out } = h.factory("alice", { json: true });
      await runRollout(f, { artifact: ghArtifact(3), env: "staging", reason: "build runners down, INC-1" });
      const doc = JSON.parse(out.stdout);
      const sent = repo.runs[0]!.inputs;
      expect(sorted(Object.keys(sent))).toEqual(sorted(GITHUB_ROLLOUT_INPUTS));
      expect(sent.optout_record).toBe(doc.id);
      expect(doc.result.after.run.id).toBe(repo.runs[0]!.id);
      expect(h.fake.violations).toEqual([]);
    });

    it("optout failover dispatches optout-failover.yml's inputs", async () => {
      const wf = parseYaml(await example("github/.github/workflows/optout-failover.yml"));
      const repo = h.reset();
      repo.addWorkflow("failover.yml", {
        inputs: Object.keys(dispatchInputs(wf)),
        runName: runName(wf),
        listDelay: 0,
      });
      repo.setVariable("ACTIVE_REGION", "us-east-1", "production");
      const { f } = h.factory("alice", { json: true });
      await runFailover(f, { to: "eu-west-1", env: "production", reason: "us-east-1 degraded, INC-2" });
      expect(sorted(Object.keys(repo.runs[0]!.inputs))).toEqual(sorted(GITHUB_FAILOVER_INPUTS));
      expect(h.fake.violations).toEqual([]);
    });
  });
});

describe("GitLab CI: the variables read are the variables sent", () => {
  const files = [".gitlab-ci.yml", ".gitlab/optout-rollout.yml"];
  /** The example's files, and optout's components they include (templates/ at the project root). */
  const texts = async () => [
    ...(await Promise.all(files.map(async (f) => [f, await example(`gitlab/${f}`)] as const))),
    ...(await Promise.all(
      ["templates/guard.yml", "templates/expire.yml"].map(
        async (f) => [f, await readFile(join(repoRoot, f), "utf8")] as const,
      ),
    )),
  ];

  it("reads no OPTOUT_* variable that optout does not send, read or the policy does not name", async () => {
    const policy = JSON.parse(await example("gitlab/.optoutrc.json")) as {
      stages: Record<string, { variable?: string }>;
      failover?: { variable?: string };
    };
    const known = new Set<string>([
      ...GITLAB_ROLLOUT_VARIABLES,
      ...GITLAB_FAILOVER_VARIABLES,
      ...CLI_ENVIRONMENT,
      ...Object.values(policy.stages).flatMap((s) => (s.variable ? [s.variable] : [])),
    ]);
    const all = await texts();
    // Variables any of the files declares count as known in all of them (the job that extends
    // .optout-guard sets the template's OPTOUT_GUARD_STAGE).
    const own = new Set(all.flatMap(([, text]) => [...declaredVariables(parseYamlDocuments(text))]));
    for (const [file, text] of all) {
      const unknown = optoutVariablesRead(text).filter((v) => !known.has(v) && !own.has(v));
      expect(unknown, file).toEqual([]);
    }
    // Both pipelines' variables are actually used.
    const joined = all.map(([, text]) => text).join("\n");
    for (const v of [...GITLAB_ROLLOUT_VARIABLES, ...GITLAB_FAILOVER_VARIABLES])
      expect(joined).toContain(`$${v}`);
  });

  describe("against the GitLab provider and the fake GitLab API", () => {
    let g: GitLabWorld;
    beforeAll(async () => {
      g = await makeGitLabWorld();
    });
    afterAll(() => g.cleanup());

    const sentVariables = (path: string) => {
      const req = g.gl.requests.filter((r) => r.method === "POST" && r.path.endsWith(path)).at(-1);
      return ((req?.body as { variables?: { key: string }[] })?.variables ?? []).map((v) => v.key).sort();
    };

    it("optout rollout sends exactly the rollout variables (OPTOUT_SKIP only when skipping)", async () => {
      const s = await g.as("bob");
      await s.rollout(glArtifact(1), "staging", { skip: "e2e" });
      expect(sentVariables("/pipeline")).toEqual(sorted(GITLAB_ROLLOUT_VARIABLES));
      await s.rollout(glArtifact(2), "staging");
      expect(sentVariables("/pipeline")).toEqual(
        sorted(GITLAB_ROLLOUT_VARIABLES.filter((v) => v !== "OPTOUT_SKIP")),
      );
      expect(g.gl.violations).toEqual([]);
    });

    it("optout failover sends exactly the failover variables", async () => {
      const s = await g.as("bob"); // a maintainer (GitLab: reading CI/CD variables needs one), on call
      await s.failover("eu-west-1", "production");
      expect(sentVariables("/pipeline")).toEqual(sorted(GITLAB_FAILOVER_VARIABLES));
      expect(g.gl.violations).toEqual([]);
    });
  });
});
