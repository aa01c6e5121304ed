/**
 * The GitHub Action as a runner runs it: the committed action/main.js (what `uses:` executes, no
 * npm install) under node, in the job's checkout, with the environment a runner gives a step:
 * an INPUT_<NAME> for every input of action.yml (its default when the workflow sets none),
 * GITHUB_OUTPUT, GITHUB_JOB, GITHUB_REF_NAME, GITHUB_SHA.
 */
import { spawn } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { defaultLoadersSync } from "cosmiconfig";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { actionRun } from "../../src/action/inputs.js";
import { git, makeWorld, type RunResult, repoRoot, type World } from "../helpers/world.js";

interface ActionYml {
  inputs: Record<string, { default?: string }>;
}

let w: World;
let actionYml: ActionYml;
let output: string;

/** INPUT_* as the runner sets them: every declared input, the workflow's `with:` over the defaults. */
function inputs(withs: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, spec] of Object.entries(actionYml.inputs)) {
    env[`INPUT_${name.toUpperCase().replaceAll(" ", "_")}`] = withs[name] ?? spec.default ?? "";
  }
  return env;
}

async function step(withs: Record<string, string>, extra: Record<string, string> = {}): Promise<RunResult> {
  const env = {
    ...w.env("bob"),
    GITHUB_ACTIONS: "true",
    GITHUB_OUTPUT: output,
    GITHUB_WORKSPACE: w.work,
    GITHUB_JOB: "lint",
    GITHUB_REF_NAME: "main",
    GITHUB_SHA: await git(w.work, "rev-parse", "HEAD"),
    ...inputs(withs),
    ...extra,
  };
  return new Promise((resolve) => {
    // A JavaScript action runs in the workspace.
    const child = spawn(process.execPath, [join(repoRoot, "action", "main.js")], {
      cwd: env.GITHUB_WORKSPACE,
      env,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const outputs = async () => (await readFile(output, "utf8")).trim().split("\n");

beforeAll(async () => {
  w = await makeWorld();
  output = join(w.dir, "github_output");
  actionYml = defaultLoadersSync[".yaml"](
    "action.yml",
    await readFile(join(repoRoot, "action.yml"), "utf8"),
  ) as ActionYml;
});
afterAll(() => w.cleanup());
beforeEach(async () => {
  await rm(output, { force: true });
  await writeFile(output, "");
});

describe("the Action's step", () => {
  it("a cancelled job (SIGTERM while guard waits on the remote): the step ends by that signal", async () => {
    // A remote that takes the request and never answers: guard is waiting on it when cancelled.
    let asked!: () => void;
    const waiting = new Promise<void>((r) => (asked = r));
    const held: import("node:http").ServerResponse[] = [];
    const server = createServer((_req, res) => {
      held.push(res);
      asked();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const env = {
      ...w.env("bob"),
      GITHUB_ACTIONS: "true",
      GITHUB_OUTPUT: output,
      GITHUB_WORKSPACE: w.work,
      GITHUB_JOB: "lint",
      GITHUB_REF_NAME: "main",
      GITHUB_SHA: await git(w.work, "rev-parse", "HEAD"),
      ...inputs({ stage: "lint" }),
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: `url.http://127.0.0.1:${port}/shop.git.insteadOf`,
      GIT_CONFIG_VALUE_0: w.remote,
    };
    const child = spawn(process.execPath, [join(repoRoot, "action", "main.js")], { cwd: w.work, env });
    const ended = new Promise<{ code: number | null; signal: string | null }>((r) =>
      child.on("close", (code, signal) => r({ code, signal })),
    );
    await waiting;
    child.kill("SIGTERM");
    expect(await ended).toEqual({ code: null, signal: "SIGTERM" });
    for (const res of held) res.destroy();
    server.close();
  });

  it("nothing waived: output skip=false, the step succeeds", async () => {
    const r = await step({ stage: "lint" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("run");
    expect(await outputs()).toEqual(["skip=false"]);
  });

  it("a signed waiver: output skip=true; another stage still runs", async () => {
    const skip = await w.run("alice", ["skip", "lint", "--reason", "linter crashes on node 22, INC-4411"]);
    expect(skip.code, skip.stderr).toBe(0);
    const r = await step({ stage: "lint" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("skip");
    expect(await outputs()).toEqual(["skip=true"]);

    await writeFile(output, "");
    expect((await step({ stage: "e2e" })).code).toBe(0);
    expect(await outputs()).toEqual(["skip=false"]);
  });

  it("without a stage input, the stage is the job's id", async () => {
    const r = await step({}, { GITHUB_JOB: "e2e" });
    expect(r.code, r.stderr).toBe(0);
    expect(await outputs()).toEqual(["skip=false"]);
    expect(r.stderr).not.toContain("unknown stage");
  });

  it("guard failing is not a skip: skip=false, a warning annotation, and the step succeeds", async () => {
    const r = await step({ stage: "no-such-stage" });
    expect(r.code).toBe(0);
    expect(await outputs()).toEqual(["skip=false"]);
    expect(r.stderr).toContain('optout: unknown stage "no-such-stage"');
    expect(r.stdout).toContain(
      "::warning::optout guard failed (exit 2); running no-such-stage (fail closed)",
    );
  });

  it("an input GitHub would not take as a boolean is an error, and fails closed", async () => {
    const r = await step({ stage: "lint", strict: "yes" });
    expect(r.code).toBe(0);
    expect(await outputs()).toEqual(["skip=false"]);
    expect(r.stdout).toContain('::warning::optout guard: input strict is "yes", not a boolean');
  });

  it("working-directory: guard runs in the checkout it names (lint is waived there)", async () => {
    const r = await step({ stage: "lint", "working-directory": "work" }, { GITHUB_WORKSPACE: w.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("skip");
    expect(await outputs()).toEqual(["skip=true"]);

    await writeFile(output, "");
    const outside = await step({ stage: "lint" }, { GITHUB_WORKSPACE: w.dir });
    expect(outside.code).toBe(0);
    expect(await outputs()).toEqual(["skip=false"]);
  });
});

describe("actionRun: action.yml's inputs → guard's arguments", () => {
  const base = (over: Record<string, string>) => ({ GITHUB_JOB: "build", ...over });

  it("maps every input action.yml declares", async () => {
    const yml = defaultLoadersSync[".yaml"](
      "action.yml",
      await readFile(join(repoRoot, "action.yml"), "utf8"),
    ) as ActionYml;
    const given: Record<string, string> = {
      stage: "lint",
      ref: "main",
      sha: "abc1234",
      strict: "true",
      config: "ci/optout.json",
      provider: "git",
      repo: "acme/shop",
      "working-directory": "sub",
      verbose: "True",
    };
    expect(Object.keys(yml.inputs).sort()).toEqual(Object.keys(given).sort());
    const env = Object.fromEntries(Object.entries(given).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]));
    expect(actionRun(base(env), "/ws")).toEqual({
      stage: "lint",
      cwd: "/ws/sub",
      argv: [
        "guard",
        "--format",
        "github",
        "--ref",
        "main",
        "--sha",
        "abc1234",
        "--config",
        "ci/optout.json",
        "--provider",
        "git",
        "--repo",
        "acme/shop",
        "--strict",
        "--verbose",
        "--",
        "lint",
      ],
    });
  });

  it("empty inputs (the runner's default) add nothing; the job id is the stage", () => {
    expect(actionRun(base({ INPUT_STAGE: "", INPUT_STRICT: "false", INPUT_REF: " " }), "/ws")).toEqual({
      stage: "build",
      cwd: "/ws",
      argv: ["guard", "--format", "github", "--", "build"],
    });
  });

  it("a stage that looks like a flag is still the stage", () => {
    expect(actionRun(base({ INPUT_STAGE: "--help" }), "/ws").argv.slice(-2)).toEqual(["--", "--help"]);
  });

  it("no stage and no job id: a usage error with a hint", () => {
    expect(() => actionRun({}, "/ws")).toThrow(/no stage to guard/);
  });
});
