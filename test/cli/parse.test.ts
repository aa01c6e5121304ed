/**
 * Flag parsing in process, as gh tests its commands with a `runF`: the command tree parses a
 * command line and hands over what the run function would have received, without running it.
 * guard's fast parser (no commander) must agree with the command tree on every guard line.
 */
import { describe, expect, it } from "vitest";
import { parseGuard } from "../../src/cli/guard-fast.js";
import { buildProgram } from "../../src/cli/program.js";
import type { FlagSetOptions } from "../../src/commands/flag/run.js";
import type { RolloutOptions } from "../../src/commands/rollout/run.js";
import type { SkipOptions } from "../../src/commands/skip/run.js";
import type { Globals } from "../../src/factory.js";

interface Call {
  command: string;
  input: unknown;
  globals: Globals;
}

const plain: Globals = { json: false, yes: false, dryRun: false, verbose: false };

async function parse(argv: string[]): Promise<Call> {
  const calls: Call[] = [];
  const program = buildProgram(
    "0.0.0",
    async () => {
      throw new Error("a parse test never builds a Factory");
    },
    { writeOut: () => {}, writeErr: () => {} },
    (command, input, globals) => {
      calls.push({ command, input, globals });
    },
  );
  await program.parseAsync(argv, { from: "user" });
  expect(calls).toHaveLength(1);
  return calls[0]!;
}

/** The commander error code a command line is refused with. */
async function refused(argv: string[]): Promise<string> {
  return parse(argv).then(
    () => "accepted",
    (e: { code?: string; message: string }) => e.code ?? e.message,
  );
}

describe("command-line parsing (in process)", () => {
  it("skip: the stage, every flag under its option name, and globals after the verb", async () => {
    const c = await parse([
      "skip",
      "lint",
      "--reason",
      "flaky linter, INC-1",
      "--ttl",
      "4h",
      "--allow-missing-ref",
      "--ref",
      "release/1",
      "--dry-run",
      "-y",
    ]);
    expect(c).toEqual({
      command: "skip",
      input: {
        stage: "lint",
        reason: "flaky linter, INC-1",
        ttl: "4h",
        allowMissingRef: true,
        ref: "release/1",
      },
      globals: { ...plain, dryRun: true, yes: true },
    });
  });

  it("global options: before or after the verb, --no-color as color false", async () => {
    const before = await parse([
      "--json",
      "--provider",
      "git",
      "--repo",
      "a/b",
      "--config",
      "p.json",
      "status",
    ]);
    const after = await parse([
      "status",
      "--json",
      "--provider",
      "git",
      "--repo",
      "a/b",
      "--config",
      "p.json",
    ]);
    const globals = { ...plain, json: true, provider: "git", repo: "a/b", config: "p.json" };
    expect(before).toEqual({ command: "status", input: {}, globals });
    expect(after).toEqual(before);
    expect((await parse(["doctor", "--no-color", "-v"])).globals).toEqual({
      ...plain,
      color: false,
      verbose: true,
    });
  });

  it("nested verbs and optional arguments", async () => {
    expect(await parse(["flag", "set", "MODE", "safe", "--env", "prod"])).toMatchObject({
      command: "flag set",
      input: { name: "MODE", value: "safe", env: "prod" },
    });
    expect((await parse(["flag", "set"])).input).toEqual({});
    expect((await parse(["flag", "list"])).input).toEqual({ format: "table" });
    expect((await parse(["flag", "get", "MODE"])).input).toEqual({ name: "MODE" });
    expect(await parse(["auth", "status"])).toMatchObject({ command: "auth status", input: {} });
    expect(await parse(["policy", "check", "--pinned"])).toMatchObject({
      command: "policy check",
      input: { pinned: true },
    });
  });

  it("defaults and optional values reach the run function", async () => {
    expect((await parse(["report"])).input).toEqual({ since: "30d", by: "type", format: "text" });
    expect((await parse(["sync"])).input).toEqual({ settleAfter: "1h" });
    expect((await parse(["rollout", "--previous"])).input).toEqual({ previous: true });
    expect((await parse(["rollout", "--previous", "42", "--wait"])).input).toEqual({
      previous: "42",
      wait: true,
    });
    expect((await parse(["review", "01ABC", "--verdict", "justified"])).input).toEqual({
      id: "01ABC",
      verdict: "justified",
    });
  });

  it("refuses a bad choice, an unknown flag and a missing argument before anything runs", async () => {
    expect(await refused(["report", "--by", "colour"])).toBe("commander.invalidArgument");
    expect(await refused(["review", "01ABC", "--verdict", "fine"])).toBe("commander.invalidArgument");
    expect(await refused(["status", "--provider", "bitbucket"])).toBe("commander.invalidArgument");
    expect(await refused(["skip", "lint", "--reasn", "x"])).toBe("commander.unknownOption");
    expect(await refused(["revert"])).toBe("commander.missingArgument");
  });

  it("refuses a control character in any argument or option, naming where", async () => {
    await expect(parse(["skip", "lint", "--reason", "a\u0007b"])).rejects.toThrow(/--reason/);
    await expect(parse(["skip", "li\u001bnt"])).rejects.toThrow(/<stage>/);
    await expect(parse(["status", "--repo", "a/\u0000b"])).rejects.toThrow(/--repo/);
  });

  it("guard: the fast parser and the command tree agree", async () => {
    const lines = [
      ["guard", "lint"],
      ["guard", "lint", "--ref", "main", "--sha", "abc123", "--strict"],
      ["guard", "test", "--format", "github", "--json", "--no-color", "-v"],
      [
        "guard",
        "deploy",
        "--format",
        "gitlab",
        "--provider",
        "gitlab",
        "--repo",
        "g/s/p",
        "--config",
        "x.json",
      ],
      ["guard", "lint", "-y", "--dry-run"],
    ];
    for (const argv of lines) {
      const fast = parseGuard(argv);
      const tree = await parse(argv);
      expect(fast, argv.join(" ")).toBeDefined();
      expect({
        command: "guard",
        input: { stage: fast!.stage, ...fast!.options },
        globals: fast!.globals,
      }).toEqual(tree);
    }
  });

  it("guard: anything unusual goes to the command tree, which explains it", () => {
    for (const argv of [
      ["guard", "lint", "--help"],
      ["guard", "lint", "--format", "yaml"],
      ["guard", "lint", "--provider", "bitbucket"],
      ["guard", "lint", "--bogus"],
      ["guard", "lint", "test"],
      ["guard"],
      ["skip", "lint"],
    ])
      expect(parseGuard(argv), argv.join(" ")).toBeUndefined();
  });

  it("a run function's options are the type its definition infers (checked by the typecheck)", () => {
    const skip: SkipOptions = { stage: "lint", reason: "r", allowMissingRef: false };
    // @ts-expect-error skip has no --why: renaming --reason in skip/command.ts alone fails skip/run.ts
    const renamed: SkipOptions = { stage: "lint", why: "r" };
    const rollout: RolloutOptions = { previous: "42" };
    // @ts-expect-error flag set has no --value option: the value is an argument
    const set: FlagSetOptions = { name: "MODE", valueFlag: "x" };
    expect([skip.reason, renamed.stage, rollout.previous, set.name]).toEqual(["r", "lint", "42", "MODE"]);
  });
});
