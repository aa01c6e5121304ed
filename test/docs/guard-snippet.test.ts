/**
 * The any-CI guard wrapper exactly as docs/pipelines.md shows it (and `optout init` writes it),
 * run with `sh` in a real clone against a real remote, with the built CLI on PATH as `optout`.
 */
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { guardScript } from "../../src/scaffold/templates/shell.js";
import { makeWorld, type World } from "../helpers/world.js";
import { docBlock, optoutOnPath, runShell } from "./helpers.js";

let w: World;
let script: string;
let env: Record<string, string>;
const marker = () => join(w.dir, "stage-ran");

/** `sh guard.sh <stage> sh -c 'echo ran > marker; exit <code>'`: the stage's command leaves a trace. */
function runStage(stage: string, exitCode = 0) {
  return runShell("sh", [script, stage, "sh", "-c", `echo ran > "${marker()}"; exit ${exitCode}`], {
    cwd: w.work,
    env,
  });
}

beforeAll(async () => {
  w = await makeWorld();
  script = join(w.dir, "guard.sh");
  await writeFile(script, await docBlock("docs/pipelines.md", "guard-sh", "generated"));
  env = w.env("bob", { PATH: `${await optoutOnPath(w.dir)}:${process.env.PATH}` });
});
afterAll(() => w.cleanup());
beforeEach(() => rm(marker(), { force: true }));

describe("docs/pipelines.md: the any-CI guard wrapper", () => {
  it("is what optout init writes", async () => {
    expect(await readFile(script, "utf8")).toBe(guardScript());
  });

  it("runs the stage's command when nothing waives it, and passes its exit code on", async () => {
    const r = await runStage("lint");
    expect(r.code).toBe(0);
    expect(existsSync(marker())).toBe(true);
    expect(r.stderr).toContain("run");

    await rm(marker());
    const failing = await runStage("lint", 7);
    expect(failing.code).toBe(7);
    expect(existsSync(marker())).toBe(true);
  });

  it("skips the stage's command when a signed override waives it", async () => {
    const skip = await w.run("alice", ["skip", "lint", "--reason", "linter crashes on node 22, INC-4411"]);
    expect(skip.code, skip.stderr).toBe(0);

    const r = await runStage("lint", 7);
    expect(r.code).toBe(0);
    expect(existsSync(marker())).toBe(false);
    expect(r.stderr).toMatch(/optout: lint is waived; not running: sh -c/);

    // Only the waived stage: e2e still runs.
    const other = await runStage("e2e");
    expect(existsSync(marker())).toBe(true);
    expect(other.code).toBe(0);
  });

  it("fails closed: a guard error (unknown stage, no optout) runs the stage, with a warning", async () => {
    const unknown = await runStage("no-such-stage");
    expect(unknown.code).toBe(0);
    expect(existsSync(marker())).toBe(true);
    expect(unknown.stderr).toMatch(/guard failed \(exit 2\); running no-such-stage anyway \(fail closed\)/);

    await rm(marker());
    const missing = await runShell("sh", [script, "lint", "sh", "-c", `echo ran > "${marker()}"`], {
      cwd: w.work,
      env: { ...env, PATH: "/usr/bin:/bin" },
    });
    expect(missing.code).toBe(0);
    expect(existsSync(marker())).toBe(true);
    expect(missing.stderr).toMatch(/guard failed \(exit 127\)/);
  });

  it("refuses to run without a stage and a command", async () => {
    const r = await runShell("sh", [script, "lint"], { cwd: w.work, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/usage: .* <stage> <command>/);
  });
});
