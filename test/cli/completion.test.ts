/** Completion scripts come from the command tree and work in a real bash. */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it, onTestFinished } from "vitest";
import { repoRoot, runCli } from "../helpers/world.js";

const exec = promisify(execFile);
const env = { PATH: process.env.PATH ?? "", HOME: "/nonexistent", NO_COLOR: "1" };

async function complete(script: string, words: string[]): Promise<string[]> {
  const program = `source "${script}"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _optout; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const { stdout } = await exec("bash", ["-c", program]);
  return stdout.split("\n").filter(Boolean);
}

describe("optout completion", () => {
  it("bash completes commands, subcommands and flags", async () => {
    const r = await runCli(["completion", "bash"], { cwd: repoRoot, env });
    expect(r.code).toBe(0);
    const dir = await mkdtemp(join(tmpdir(), "optout-completion-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "optout.bash");
    await writeFile(file, r.stdout);
    await exec("bash", ["-n", file]);
    expect(await complete(file, ["optout", "sk"])).toEqual(["skip"]);
    expect(await complete(file, ["optout", "flag", ""])).toEqual(
      expect.arrayContaining(["set", "unset", "get", "list"]),
    );
    expect(await complete(file, ["optout", "skip", "lint", "--t"])).toEqual(["--ttl", "--ticket"]);
    expect(await complete(file, ["optout", "rollout", "--dry"])).toEqual(["--dry-run"]);
  });

  it("zsh and fish scripts name every top-level command", async () => {
    const zsh = await runCli(["completion", "zsh"], { cwd: repoRoot, env });
    expect(zsh.stdout).toMatch(/^#compdef optout/);
    const fish = await runCli(["completion", "fish"], { cwd: repoRoot, env });
    for (const c of ["skip", "guard", "flag", "rollout", "failover", "revert", "log"]) {
      expect(fish.stdout).toMatch(new RegExp(`-n '__fish_use_subcommand' -a ${c} `));
    }
    const bad = await runCli(["completion", "tcsh"], { cwd: repoRoot, env });
    expect(bad.code).toBe(2);
  });
});
