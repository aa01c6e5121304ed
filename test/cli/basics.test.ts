/** The command tree: version, help, help topics, usage errors; and what startup imports. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { exitCodeTable } from "../../src/errors.js";
import { repoRoot, runCli } from "../helpers/world.js";

const env = { PATH: process.env.PATH ?? "", NO_COLOR: "1", HOME: "/nonexistent" };
const run = (args: string[], extra: Record<string, string> = {}) =>
  runCli(args, { cwd: repoRoot, env: { ...env, ...extra } });

describe("optout basics", () => {
  it("--version prints the package version", async () => {
    const pkg = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8"));
    for (const flag of ["--version", "-V"]) {
      const r = await run([flag]);
      expect([r.code, r.stdout, r.stderr]).toEqual([0, `${pkg.version}\n`, ""]);
    }
  });

  it("--version, help and completion honour --json: one object each", async () => {
    const pkg = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8"));
    const version = await run(["--version", "--json"]);
    expect([version.code, JSON.parse(version.stdout)]).toEqual([0, { version: pkg.version }]);
    const skip = JSON.parse((await run(["skip", "--help", "--json"])).stdout);
    expect(skip).toMatchObject({ command: "optout skip", usage: "optout skip [options] <stage>" });
    expect(skip.options).toContainEqual(expect.objectContaining({ flags: "--allow-missing-ref" }));
    const viaHelp = JSON.parse((await run(["help", "skip", "--json"])).stdout);
    expect(viaHelp).toEqual(skip);
    const codes = JSON.parse((await run(["help", "exit-codes", "--json"])).stdout);
    expect(codes.exitCodes).toEqual(exitCodeTable.map(([code, meaning]) => ({ code, meaning })));
    const root = JSON.parse((await run(["--help", "--json"])).stdout);
    expect(root.commands.map((c: { name: string }) => c.name)).toContain("rollout");
    const completion = await run(["completion", "zsh", "--json"]);
    expect(completion.code, completion.stderr).toBe(0);
    expect(JSON.parse(completion.stdout)).toMatchObject({
      shell: "zsh",
      script: expect.stringContaining("compdef"),
    });
  });

  it("--help lists the commands that exist, and the help topics", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    for (const c of [
      "skip",
      "guard",
      "status",
      "revert",
      "expire",
      "log",
      "sync",
      "flag",
      "rollout",
      "failover",
      "approve",
      "reject",
      "policy",
      "notify",
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, "m"));
    }
    expect(r.stdout).toContain("optout help exit-codes");
  });

  it("help exit-codes prints the whole table; help environment lists the variables", async () => {
    const codes = await run(["help", "exit-codes"]);
    expect(codes.code).toBe(0);
    for (const [code, text] of exitCodeTable)
      expect(codes.stdout).toContain(`${String(code).padEnd(4)} ${text}`);
    const envs = await run(["help", "environment"]);
    expect(envs.stdout).toMatch(/OPTOUT_SIGNING_KEY/);
    expect(envs.stdout).toMatch(/SSH_AUTH_SOCK/);
  });

  it("usage errors exit 2 with one line and a hint", async () => {
    for (const args of [
      ["skip"],
      ["skip", "lint", "--bogus"],
      ["frobnicate"],
      ["guard", "lint", "--format", "xml"],
      ["--provider", "svn", "status"],
    ]) {
      const r = await run(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/^optout: .+\nhint: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("--json errors are one JSON document on stdout", async () => {
    const r = await run(["skip", "lint", "--json"], { CI: "true" });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 2 } });
  });

  it("--version and --help load no heavy module", async () => {
    const hook = join(repoRoot, "test", "fixtures", "trace-imports.mjs");
    for (const args of [["--version"], ["--help"]]) {
      const r = await runCli(["--", ...args].slice(1), {
        cwd: repoRoot,
        env: { ...env, NODE_OPTIONS: `--import ${hook}`, OPTOUT_TRACE_IMPORTS: "1" },
      });
      expect(r.code).toBe(0);
      const loaded = r.stderr.split("\n").filter((l) => l.startsWith("import "));
      expect(loaded.length, "the trace hook saw imports").toBeGreaterThan(0);
      for (const heavy of ["octokit", "@inquirer", "/ora/", "/execa/", "/zod/", "cosmiconfig", "/chalk/"]) {
        expect(
          loaded.filter((l) => l.includes(heavy)),
          `${args[0]} loads ${heavy}`,
        ).toEqual([]);
      }
    }
  });
});
