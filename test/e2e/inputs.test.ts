/**
 * What a command line may put into a signed record, git's arguments or a terminal, end to end with
 * the built CLI on a real remote: every refusal is exit 2 with one line and a hint, writes nothing
 * to the ledger and never echoes the value raw; the honest inputs beside them still work.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basePolicy, git, makeWorld, type RunResult, type World } from "../helpers/world.js";

const exec = promisify(execFile);
const reason = "linter crashes on node 22, INC-4411";
const token = `ghp_${"aZ09bY18cX27dW36eV45".repeat(2).slice(0, 36)}`;

let w: World;
beforeAll(async () => {
  w = await makeWorld({
    policy: basePolicy({
      flags: { BANNER: { pattern: "^.*$", allow: ["oncall"] } },
      rollout: {
        command: ["true", "{artifact}"],
        environments: ["staging"],
        artifact: { pattern: "^.*$" },
        allow: ["oncall"],
      },
      failover: { targets: ["us-east-1", "eu-west-1"], command: ["true", "{target}"], allow: ["oncall"] },
    }),
  });
});
afterAll(() => w.cleanup());

async function auditCommits(): Promise<number> {
  const r = await exec("git", ["-C", w.remote, "rev-list", "--count", "optout/audit"]).catch(() => ({
    stdout: "0",
  }));
  return Number(r.stdout.trim());
}

/** Exit 2, one `optout:` line and one `hint:` line, no control character, nothing recorded. */
async function refused(args: string[], message: RegExp, hint?: RegExp): Promise<RunResult> {
  const before = await auditCommits();
  const r = await w.run("alice", args);
  expect({ args, code: r.code }).toEqual({ args, code: 2 });
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines[0]).toMatch(message);
  expect(lines[0]).toMatch(/^optout: /);
  if (hint) expect(lines[1]).toMatch(hint);
  expect(lines.length).toBeLessThanOrEqual(2);
  expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  expect(r.stderr.length).toBeLessThan(400);
  expect(r.stdout).toBe("");
  expect(await auditCommits()).toBe(before);
  return r;
}

describe("refs and commits", () => {
  it("skip --ref takes a ref git accepts, and refuses what git would not", async () => {
    const ok = await w.run("alice", [
      "skip",
      "lint",
      "--ref",
      "release/2.4",
      "--allow-missing-ref",
      "--reason",
      reason,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const bad: [string, RegExp][] = [
      ["\u001b]0;pwned\u0007main", /control character/],
      ["main\nfake: output line", /control character/],
      ["-x --upload-pack=touch pwned", /starts with "-"/],
      ["--upload-pack=touch pwned", /starts with "-"/],
      ["../../etc", /holds "\.\."/],
      ["a".repeat(100 * 1024), /longer than 255 bytes/],
      ["main@{1}", /holds "@\{"/],
      ["a.lock", /ends with "\.lock"/],
    ];
    for (const [ref, why] of bad) {
      await refused(
        ["skip", "lint", "--ref", ref, "--reason", reason],
        new RegExp(`--ref .* ${why.source}`),
        why.source === "control character" ? /one line/ : /git check-ref-format/,
      );
    }
    expect(existsSync(join(w.work, "pwned"))).toBe(false);
  });

  it("skip --ref must name a branch or tag on the remote, unless --allow-missing-ref", async () => {
    await refused(
      ["skip", "lint", "--ref", "mian", "--reason", reason],
      /^optout: --ref mian is not a branch or tag on origin$/,
      /^hint: did you mean main\? pass --allow-missing-ref to waive a ref that does not exist yet$/,
    );
    await refused(
      ["skip", "lint", "--ref", "refs/heads/hotfix/INC-42", "--reason", reason],
      /--ref hotfix\/INC-42 is not a branch or tag on origin$/,
      /^hint: pass --allow-missing-ref/,
    );
    const later = await w.run("alice", [
      "skip",
      "lint",
      "--ref",
      "hotfix/INC-42",
      "--allow-missing-ref",
      "--reason",
      reason,
    ]);
    expect(later.code, later.stderr).toBe(0);
  });

  it("skip --sha takes 7 to 64 hex digits", async () => {
    const head = await git(w.work, "rev-parse", "HEAD");
    const ok = await w.run("alice", [
      "skip",
      "lint",
      "--sha",
      head.slice(0, 7),
      "--reason",
      reason,
      "--json",
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).record.target.sha).toBe(head);
    for (const sha of ["abc123", "-x", "HEAD", "f".repeat(65)]) {
      await refused(
        ["skip", "lint", "--sha", sha, "--reason", reason],
        /--sha ".*" is not a commit id/,
        /hexadecimal/,
      );
    }
  });

  it("guard refuses a --ref or --sha git could not take (exit 2)", async () => {
    expect((await w.run("alice", ["guard", "lint", "--ref", "-x"])).code).toBe(2);
    expect((await w.run("alice", ["guard", "lint", "--sha", "--upload-pack=x"])).code).toBe(2);
  });
});

describe("texts kept in records", () => {
  it("refuses a token in --reason or --ticket, without repeating it", async () => {
    for (const args of [
      ["skip", "lint", "--reason", `broken, use ${token} to check`],
      ["skip", "lint", "--reason", reason, "--ticket", token],
      ["revert", "01JJ0000000000000000000000", "--reason", `undo ${token}`],
      ["approve", "01JJ0000000000000000000000", "--reason", token],
      ["reject", "01JJ0000000000000000000000", "--reason", token],
    ]) {
      const r = await refused(
        args,
        /^optout: --(reason|ticket) looks like it holds a secret$/,
        /^hint: it looks like a GitHub token; never paste secrets into records: they are signed and kept for ever$/,
      );
      expect(r.stderr).not.toContain(token);
    }
  });

  it("counts visible characters: 16 zero-width spaces are no reason", async () => {
    await refused(
      ["skip", "lint", "--reason", "\u200b".repeat(16)],
      /--reason is 0 visible characters; skip lint needs at least 15/,
    );
  });

  it("refuses control characters in every value", async () => {
    await refused(
      ["skip", "lint", "--reason", `${reason}\u001b[2J`],
      /^optout: --reason ".*" holds a control character$/,
    );
    await refused(
      ["skip", "lint", "--reason", reason, "--ticket", "INC-1\nINC-2"],
      /--ticket ".*" holds a control/,
    );
    await refused(["skip", "lint\n", "--reason", reason], /<stage> ".*" holds a control character/);
    await refused(
      ["flag", "set", "BANNER", "a\nNODE_OPTIONS=--require=/tmp/x.js", "--reason", reason],
      /<value> ".*" holds a control/,
    );
    await refused(["failover", "--to", "eu-west-1\u202e", "--reason", reason], /--to ".*" holds a control/);
  });

  it("refuses an artifact the rollout command would read as an option", async () => {
    await refused(
      ["rollout", "--artifact", "--upload-pack=touch pwned", "--env", "staging", "--reason", reason],
      /--artifact ".*" starts with "-"/,
    );
  });

  it("review --note and --ticket follow the same rules", async () => {
    const skip = JSON.parse((await w.run("alice", ["skip", "lint", "--reason", reason, "--json"])).stdout);
    await refused(
      ["review", skip.id, "--verdict", "justified", "--note", `see ${token}`],
      /--note looks like it holds a secret/,
    );
    await refused(
      ["review", skip.id, "--verdict", "justified", "--note", "\u200b\u200b"],
      /--note is required/,
    );
  });
});

describe("flag list --format dotenv", () => {
  it("writes values a shell can source without running them", async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell's expansion, not a template
    const value = "$(touch pwned) `touch pwned` ${HOME} \\ # x";
    const set = await w.run("alice", ["flag", "set", "BANNER", value, "--reason", reason]);
    expect(set.code, set.stderr).toBe(0);
    const list = await w.run("bob", ["flag", "list", "--format", "dotenv"]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toBe(`BANNER='${value}'\n`);
    await writeFile(join(w.dir, "flags.env"), list.stdout);
    const { stdout } = await exec("sh", ["-c", '. ./flags.env; printf %s "$BANNER"'], {
      cwd: w.dir,
      env: { PATH: "/usr/bin:/bin", HOME: "/home/nobody" },
    });
    expect(stdout).toBe(value);
    expect(existsSync(join(w.dir, "pwned"))).toBe(false);
  });

  it("refuses a value a dotenv file cannot hold, before printing any line", async () => {
    expect((await w.run("alice", ["flag", "set", "BANNER", "it's down", "--reason", reason])).code).toBe(0);
    const list = await w.run("bob", ["flag", "list", "--format", "dotenv"]);
    expect(list.code).toBe(2);
    expect(list.stdout).toBe("");
    expect(list.stderr).toMatch(
      /^optout: cannot write flag BANNER as dotenv: its value holds a single quote\nhint: /,
    );
    // The value itself is still readable, alone on stdout.
    expect((await w.run("bob", ["flag", "get", "BANNER"])).stdout).toBe("it's down\n");
  });
});
