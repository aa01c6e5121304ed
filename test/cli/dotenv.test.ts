/**
 * `flag list --format dotenv` lines, read back the way pipelines read them: sourced by a real
 * POSIX shell, and parsed by a real dotenv parser (the `dotenv` package). Every hostile value
 * must come back byte for byte, with nothing run and no extra variable set.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse } from "dotenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dotenvLine } from "../../src/commands/flag/dotenv.js";
import { ExitCode, UsageError } from "../../src/errors.js";

const exec = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "optout-dotenv-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const hostile = [
  "on",
  "",
  "two words",
  "  padded  ",
  "$(touch pwned)",
  "`touch pwned`",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell's expansion, not a template
  "${HOME}",
  "$HOME",
  "a\\nb",
  "back\\",
  '"double"',
  "# not a comment",
  "x # trailing",
  "a=b",
  "; touch pwned",
  "&& touch pwned &",
  "ü €",
  "*",
  "~",
];

async function sourced(file: string, name: string): Promise<string> {
  const { stdout } = await exec("sh", ["-c", `. ./${file}; printf %s "$${name}"`], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/nonexistent" },
  });
  return stdout;
}

describe("dotenv lines", () => {
  it.each(hostile)("read back %j exactly, by sh and by dotenv, running nothing", async (value) => {
    const file = `f${hostile.indexOf(value)}.env`;
    const text = `${dotenvLine("DEPLOY_MODE", value)}\n${dotenvLine("OTHER", "kept")}\n`;
    await writeFile(join(dir, file), text);
    expect(await sourced(file, "DEPLOY_MODE")).toBe(value);
    expect(await sourced(file, "OTHER")).toBe("kept");
    expect(parse(text)).toEqual({ DEPLOY_MODE: value, OTHER: "kept" });
    expect((await readdir(dir)).filter((f) => f === "pwned")).toEqual([]);
  });

  it("refuse a value holding a single quote, or a control character, naming the flag", () => {
    for (const value of [
      "it's",
      "a'; touch pwned; '",
      "a\nNODE_OPTIONS=--require=/tmp/x.js",
      "a\rb",
      "\u001b[2J",
    ]) {
      let err: unknown;
      try {
        dotenvLine("DEPLOY_MODE", value);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).exitCode).toBe(ExitCode.usage);
      expect((err as UsageError).message).toMatch(
        /^cannot write flag DEPLOY_MODE as dotenv: its value holds a /,
      );
      expect((err as UsageError).hint).toContain("optout flag get DEPLOY_MODE");
    }
  });

  it("refuse a name that is not a variable name", () => {
    expect(() => dotenvLine("A;touch pwned;B", "x")).toThrow(UsageError);
  });
});
