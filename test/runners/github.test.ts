/**
 * Every GitHub workflow optout ships (examples/) or `optout init` writes, through GitHub's own
 * parser and actionlint, and action.yml through GitHub's parser for action metadata.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { StageAnswer } from "../../src/scaffold/policy.js";
import { pipelineFiles } from "../../src/scaffold/templates/index.js";
import { actionErrors, actionlint, workflowErrors } from "../helpers/github-parser.js";
import { repoRoot } from "../helpers/world.js";

const examples = join(repoRoot, "examples", "github", ".github", "workflows");

/** Stages as init asks for them: each mechanism alone (status alone is the case that made `jobs: {}`) and all together. */
const stageSets: Record<string, StageAnswer[]> = {
  guard: [{ name: "lint", mechanism: "guard" }],
  variable: [{ name: "sec.scan", mechanism: "variable", variable: "OPTOUT_SKIP_SEC_SCAN" }],
  status: [{ name: "build", mechanism: "status", context: "ci/build" }],
  all: [
    { name: "lint", mechanism: "guard" },
    { name: "2e2", mechanism: "guard" },
    { name: "sec.scan", mechanism: "variable", variable: "OPTOUT_SKIP_SEC_SCAN" },
    { name: "build", mechanism: "status", context: "ci/build" },
  ],
};

async function shipped(): Promise<[string, string][]> {
  const files = (await readdir(examples)).filter((f) => f.endsWith(".yml"));
  return Promise.all(
    files.map(async (f) => [`examples/github/${f}`, await readFile(join(examples, f), "utf8")]),
  );
}

function rendered(): [string, string][] {
  const out: [string, string][] = [];
  for (const provider of ["git", "github"] as const) {
    for (const [set, stages] of Object.entries(stageSets)) {
      for (const f of pipelineFiles("github", { provider, stages, version: "1.2.3" })) {
        out.push([`init --provider ${provider} (${set}): ${f.path}`, f.content]);
      }
    }
  }
  return out;
}

describe("GitHub workflows", () => {
  it("examples/ holds the four workflows", async () => {
    expect((await shipped()).map(([n]) => n).sort()).toEqual([
      "examples/github/ci.yml",
      "examples/github/optout-deploy.yml",
      "examples/github/optout-expire.yml",
      "examples/github/optout-failover.yml",
    ]);
  });

  // Many workflows through two parsers: generous timeouts, for a loaded machine.
  it("GitHub's parser accepts every workflow shipped or rendered by init", { timeout: 180_000 }, async () => {
    const problems: string[] = [];
    for (const [name, text] of [...(await shipped()), ...rendered()]) {
      for (const e of await workflowErrors(name, text)) problems.push(`${name}: ${e}`);
    }
    expect(problems).toEqual([]);
  });

  it("actionlint finds nothing in any of them", { timeout: 180_000 }, async () => {
    const problems: string[] = [];
    for (const [name, text] of [...(await shipped()), ...rendered()]) {
      for (const e of await actionlint(name, text)) problems.push(`${name}: ${e}`);
    }
    expect(problems).toEqual([]);
  });

  it("the checks are real: each catches a defect the templates once had", async () => {
    const empty = "name: ci\non: push\njobs: {} # no stage needs a guard\n";
    expect(await workflowErrors("empty.yml", empty)).toEqual([
      expect.stringContaining("The workflow must contain at least one job"),
    ]);
    expect(await actionlint("empty.yml", empty)).toEqual([
      expect.stringContaining('"jobs" section should not be empty'),
    ]);
    const typo =
      "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - if: step.x.outputs.skip\n        run: echo\n";
    expect(await workflowErrors("typo.yml", typo)).toEqual([
      expect.stringContaining("Unrecognized named-value: 'step'"),
    ]);
  });

  it("use the actions that run on Node 24, and Node.js 24 where a job runs Node", async () => {
    for (const [name, text] of [...(await shipped()), ...rendered()]) {
      const uses = [...text.matchAll(/uses: (\S+)/g)].map((m) => m[1]!);
      for (const u of uses) {
        expect(u, name).toMatch(
          /^(actions\/checkout@v7|actions\/setup-node@v7|optout-cli\/optout@v\d+\.\d+\.\d+)$/,
        );
      }
      for (const m of text.matchAll(/node-version: (\S+)/g)) expect(m[1], name).toBe("24");
      // A job that runs npm or optout installs Node.js 24 first.
      if (/^\s*(- )?run: .*\b(npm|optout)\b/m.test(text))
        expect(text, name).toContain("actions/setup-node@v7");
    }
  });

  it("the rollout and failover jobs run in the dispatched environment, under its protection rules", async () => {
    const files = Object.fromEntries(await shipped());
    expect(files["examples/github/optout-deploy.yml"]).toMatch(
      /deploy:\n(.*\n)*? {4}environment: \$\{\{ inputs\.environment \}\}/,
    );
    expect(files["examples/github/optout-failover.yml"]).toMatch(
      /failover:\n(.*\n)*? {4}environment: \$\{\{ inputs\.environment \}\}/,
    );
  });
});

describe("action.yml", () => {
  it("GitHub's parser accepts it; it runs action/main.js on node24", async () => {
    const text = await readFile(join(repoRoot, "action.yml"), "utf8");
    expect(await actionErrors("action.yml", text)).toEqual([]);
    expect(text).toMatch(/^runs:\n {2}using: node24\n {2}main: action\/main\.js$/m);
    await expect(readFile(join(repoRoot, "action", "main.js"), "utf8")).resolves.toContain("GITHUB_OUTPUT");
  });

  it("the parser is real: it refuses a runtime GitHub does not have", async () => {
    const text = (await readFile(join(repoRoot, "action.yml"), "utf8")).replace(
      "using: node24",
      "using: node18",
    );
    expect(await actionErrors("action.yml", text)).not.toEqual([]);
  });
});
