/**
 * At 3 a.m., the rest of what an on-call engineer meets (issue 17): Ctrl-C during a revert that
 * runs a command, a waiver that replaces a colleague's, guard in a detached HEAD, a clone made
 * over another URL form, a record written for another repository, a push that has to try again,
 * and a failed operation's --json. Real processes, signals and remotes; every wait is on a file.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { terminal } from "../helpers/terminal.js";
import { basePolicy, cliPath, git, makeWorld, type World } from "../helpers/world.js";

const reason = "incident INC-77: checkout is down";
const art = (c: string) => `registry.example/shop@sha256:${c.repeat(64)}`;

/** Logs "start"/"done" to DEPLOY_LOG; with WAIT_FOR set, waits for that file in between; DEPLOY_FAIL fails. */
const deploy = `
import { appendFileSync, existsSync } from "node:fs";
const log = (s) => appendFileSync(process.env.DEPLOY_LOG, s + "\\n");
log("start " + process.argv[2]);
if (process.env.WAIT_FOR) {
  await new Promise((r) => {
    const t = setInterval(() => existsSync(process.env.WAIT_FOR) && (clearInterval(t), r()), 20);
  });
}
if (process.env.DEPLOY_FAIL) process.exit(3);
log("done " + process.argv[2]);
`;

async function until(what: () => boolean, label: string): Promise<void> {
  // The bound only turns a hang into a readable failure.
  for (let i = 0; i < 900 && !what(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!what()) throw new Error(`never saw ${label}`);
}

let w: World;
let deployLog: string;
const lines = async () =>
  existsSync(deployLog) ? (await readFile(deployLog, "utf8")).trim().split("\n") : [];
const lastRecord = async () =>
  JSON.parse((await w.run("bob", ["log", "--json", "--limit", "1"])).stdout).records[0];

beforeAll(async () => {
  const scripts = await mkdtemp(join(tmpdir(), "optout-oncall-"));
  await writeFile(join(scripts, "deploy.mjs"), deploy);
  w = await makeWorld({
    people: ["alice", "bob"],
    policy: basePolicy({
      rollout: {
        command: [process.execPath, join(scripts, "deploy.mjs"), "{artifact}"],
        environments: ["staging"],
        artifact: { pattern: "^registry\\.example/shop@sha256:[0-9a-f]{64}$" },
        allow: ["oncall"],
      },
      failover: {
        targets: ["us-east-1", "eu-west-1"],
        command: [process.execPath, join(scripts, "deploy.mjs"), "{target}"],
        allow: ["oncall"],
      },
    }),
  });
  deployLog = join(w.dir, "deploy.log");
  const run = w.run;
  w.run = (p, a, o = {}) => run(p, a, { ...o, env: { DEPLOY_LOG: deployLog, ...o.env } });
  const cleanup = w.cleanup;
  w.cleanup = async () => {
    await cleanup();
    await rm(scripts, { recursive: true, force: true });
  };
});
afterAll(() => w.cleanup());

describe("Ctrl-C during a revert that runs the rollout command", () => {
  it("stops the command, records a result for the revert intent, exits 130", async () => {
    const roll = (a: string) =>
      w.run("alice", ["rollout", "--artifact", art(a), "--env", "staging", "--reason", reason, "--json"]);
    expect((await roll("a")).code).toBe(0);
    const second = await roll("b");
    expect(second.code, second.stderr).toBe(0);
    const id = JSON.parse(second.stdout).id;
    await rm(deployLog, { force: true });

    const child = spawn(process.execPath, [cliPath, "revert", id, "--reason", "b is broken too", "--yes"], {
      cwd: w.work,
      env: { ...w.env("alice"), DEPLOY_LOG: deployLog, WAIT_FOR: join(w.dir, "never") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("close", (c) => r(c)));
    await until(() => existsSync(deployLog), "the revert's command start");
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/interrupted \(Ctrl-C\) while revert of /);
    expect(await lines()).toEqual([`start ${art("a")}`]);
    // The revert's intent has its result: not applied, and saying why.
    const last = await lastRecord();
    expect(last).toMatchObject({
      type: "result",
      links: { reverts: id },
      outcome: "unknown",
      error: expect.stringMatching(/interrupted/),
    });
    // Whether b is still live is not known: status says so, for someone to check.
    const status = JSON.parse((await w.run("bob", ["status", "--json"])).stdout);
    expect(status.unfinished).toMatchObject([{ id: last.links.intent, type: "revert", status: "unknown" }]);
    expect((await w.run("alice", ["sync"])).stdout).toMatch(/still unknown: the provider cannot tell/);
    // Reverting it again, to the end, answers the question: nothing is left unfinished.
    const again = await w.run("alice", ["revert", id, "--reason", "b is broken too", "--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect(await lines()).toEqual([`start ${art("a")}`, `start ${art("a")}`, `done ${art("a")}`]);
    const after = JSON.parse((await w.run("bob", ["status", "--json"])).stdout);
    expect(after.unfinished).toEqual([]);
    expect(after.active).toMatchObject([{ target: { artifact: art("a") } }]);
  });
});

describe("a failed operation with --json", () => {
  it("carries the id, the intent and the result, like a success does", async () => {
    const r = await w.run(
      "alice",
      ["rollout", "--artifact", art("f"), "--env", "staging", "--reason", reason, "--json"],
      { env: { DEPLOY_FAIL: "1" } },
    );
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      type: "rollout",
      status: "failed",
      record: { type: "rollout", outcome: "intent" },
      result: { type: "result", outcome: "failed" },
      error: { code: 1, message: expect.stringMatching(/exited with 3/) },
    });
    expect(out.id).toBe(out.record.id);
    expect(out.result.links.intent).toBe(out.id);
  });
});

describe("replacing a colleague's waiver", () => {
  it("is said in the plan, refused without --yes outside a terminal, asked on one", async () => {
    const first = await w.run("alice", ["skip", "lint", "--reason", reason, "--json"]);
    expect(first.code, first.stderr).toBe(0);
    const alices = JSON.parse(first.stdout).id;

    // Her own again: no question (it is hers to replace).
    const own = await w.run("alice", ["skip", "lint", "--reason", `${reason}, still`, "--json"]);
    expect(own.code, own.stderr).toBe(0);
    const hers = JSON.parse(own.stdout).id;
    expect(JSON.parse(own.stdout).record.links).toEqual({ replaces: alices });

    const refused = await w.run("bob", ["skip", "lint", "--reason", reason]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`^plan: replaces ${hers} by alice, until `, "m"));
    expect(refused.stderr).toMatch(
      new RegExp(
        `^optout: skip lint replaces ${hers} by alice, until .*: replacing someone else's waiver needs a yes$`,
        "m",
      ),
    );
    expect(refused.stderr).toMatch(/^hint: .*--yes/m);
    // Refused before anything was written: the newest record is still alice's.
    expect((await lastRecord()).actor.login).toBe("alice");
    expect(JSON.parse((await w.run("bob", ["guard", "lint", "--json"])).stdout).override).toBe(hers);

    // On a terminal the question names what it replaces; no keeps hers.
    const asked = terminal(w, "bob", ["skip", "lint", "--reason", reason]);
    await asked.waitFor(/This skip lint replaces \w+ by alice, until\s+\S+\. Go ahead\?/);
    asked.type("n\r");
    expect(await asked.done).toBe(2);
    expect(JSON.parse((await w.run("bob", ["guard", "lint", "--json"])).stdout).override).toBe(hers);

    const yes = await w.run("bob", ["skip", "lint", "--reason", reason, "--yes", "--json"]);
    expect(yes.code, yes.stderr).toBe(0);
    expect(JSON.parse(yes.stdout).record.links).toEqual({ replaces: hers });
    expect(JSON.parse(yes.stdout).plan[0]).toMatch(new RegExp(`^replaces ${hers} by alice`));
    expect(
      (await w.run("alice", ["revert", JSON.parse(yes.stdout).id, "--reason", "done with it now"])).code,
    ).toBe(0);
  });
});

describe("guard without a branch to match", () => {
  it("in a detached HEAD without CI variables: says so on stderr, and a --ref makes it match", async () => {
    const skip = await w.run("alice", ["skip", "e2e", "--reason", reason, "--json"]);
    expect(skip.code, skip.stderr).toBe(0);
    const ci = await w.clone("jenkins");
    await git(ci, "checkout", "-q", "--detach", "origin/main");
    const sha = await git(ci, "rev-parse", "HEAD");
    // Jenkins and Buildkite set no variable optout reads: CI alone says nothing of the branch.
    const g = await w.run("bob", ["guard", "e2e"], { cwd: ci });
    expect([g.code, g.stdout]).toEqual([1, "run\n"]);
    expect(g.stderr).toMatch(
      new RegExp(
        `^optout: note: no branch to match \\(HEAD is detached and no CI variable names one\\); only skips for commit ${sha.slice(0, 12)} count here: pass --ref <branch>$`,
        "m",
      ),
    );
    const named = await w.run("bob", ["guard", "e2e", "--ref", "main"], { cwd: ci });
    expect([named.code, named.stdout, named.stderr]).toEqual([
      0,
      "skip\n",
      expect.not.stringMatching(/note:/),
    ]);
    // On a branch, no note.
    expect((await w.run("bob", ["guard", "e2e"])).stderr).not.toMatch(/note:/);
    expect(
      (await w.run("alice", ["revert", JSON.parse(skip.stdout).id, "--reason", "e2e is fixed"])).code,
    ).toBe(0);
  });
});

describe("repository identity on plain git", () => {
  it("a clone over another URL form honours the waiver; a record for another repository is named", async () => {
    const skip = await w.run("alice", ["skip", "lint", "--reason", reason, "--json"]);
    expect(skip.code, skip.stderr).toBe(0);
    const id = JSON.parse(skip.stdout).id;
    // A CI checkout made over file:// instead of the path the first clone used.
    const ci = join(w.dir, "ci-url");
    await git(w.dir, "clone", "-q", pathToFileURL(w.remote).href, ci);
    const g = await w.run("bob", ["guard", "lint", "--json"], { cwd: ci });
    expect(g.code, g.stderr).toBe(0);
    expect(JSON.parse(g.stdout)).toMatchObject({ decision: "skip", override: id });
    expect((await w.run("alice", ["revert", id, "--reason", "lint works again"])).code).toBe(0);

    // A waiver written for another repository (--repo) never counts here, and guard says why.
    const other = await w.run("alice", [
      "--repo",
      "acme/other",
      "skip",
      "lint",
      "--reason",
      reason,
      "--json",
    ]);
    expect(other.code, other.stderr).toBe(0);
    const otherId = JSON.parse(other.stdout).id;
    const ignored = await w.run("bob", ["guard", "lint"], { cwd: ci });
    expect([ignored.code, ignored.stdout]).toEqual([1, "run\n"]);
    expect(ignored.stderr).toMatch(/^optout: lint runs: no valid override$/m);
    expect(ignored.stderr).toMatch(new RegExp(`^optout:   ignored ${otherId}: .*acme/other`, "m"));
  });
});

describe("a push that has to try again", () => {
  it("says each attempt once, outside a terminal", async () => {
    const hook = join(w.remote, "hooks", "pre-receive");
    // Refuses the next push once, then lets everything through.
    await writeFile(join(w.dir, "refuse-once"), "");
    await writeFile(
      hook,
      `#!/bin/sh\nif [ -f "${w.dir}/refuse-once" ]; then rm "${w.dir}/refuse-once"; echo "busy, try later" >&2; exit 1; fi\nexit 0\n`,
    );
    await chmod(hook, 0o755);
    try {
      const r = await w.run("alice", ["skip", "e2e", "--reason", reason], {
        env: { OPTOUT_APPEND_TIMEOUT_MS: "60000" },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr.match(/^pushing the record \(attempt 2: .+\)$/gm)).toHaveLength(1);
      expect(r.stderr).not.toMatch(/attempt 3/);
    } finally {
      await rm(hook, { force: true });
    }
  });
});

describe("a slow push", () => {
  it("says what it waits on while the remote holds the push: one line in a log, a spinner on a terminal", async () => {
    const hook = join(w.remote, "hooks", "pre-receive");
    const waiting = join(w.dir, "hook-waiting");
    const release = join(w.dir, "release");
    await writeFile(
      hook,
      `#!/bin/sh\ntouch "${waiting}"\nwhile [ ! -f "${release}" ]; do sleep 0.05; done\nexit 0\n`,
    );
    await chmod(hook, 0o755);
    try {
      const child = spawn(process.execPath, [cliPath, "skip", "lint", "--reason", reason], {
        cwd: w.work,
        env: w.env("alice"),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((r) => child.on("close", (c) => r(c)));
      await until(() => existsSync(waiting), "the push reaching the hook");
      // While the remote holds it, the log already says what optout waits on.
      await until(() => /^pushing the record to origin\/optout\/audit$/m.test(stderr), "the progress line");
      expect(stderr).toMatch(/^reading what is in force from the audit branch$/m);
      await writeFile(release, "");
      expect(await exited).toBe(0);
      expect(stderr.match(/^pushing the record/gm)).toHaveLength(1);
      expect(stderr).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);

      // On a terminal the same wait is a spinner.
      await rm(waiting, { force: true });
      await rm(release, { force: true });
      const s = terminal(w, "alice", ["skip", "e2e", "--reason", reason, "--yes"], {
        env: { TERM: "xterm-256color" },
        columns: 100,
      });
      await until(() => existsSync(waiting), "the push reaching the hook");
      await s.waitFor(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] pushing the record to origin\/optout\/audit/);
      await writeFile(release, "");
      expect(await s.done).toBe(0);
    } finally {
      await rm(hook, { force: true });
    }
  });
});

describe("closed streams", () => {
  it("`optout failover … 2>&1 | head -1`: the reader leaves before the intent lands; the failover still runs to its result", async () => {
    const hook = join(w.remote, "hooks", "pre-receive");
    const waiting = join(w.dir, "intent-waiting");
    const release = join(w.dir, "intent-release");
    await writeFile(
      hook,
      `#!/bin/sh\ntouch "${waiting}"\nwhile [ ! -f "${release}" ]; do sleep 0.05; done\nexit 0\n`,
    );
    await chmod(hook, 0o755);
    await rm(deployLog, { force: true });
    try {
      const child = spawn(
        process.execPath,
        [cliPath, "failover", "--to", "eu-west-1", "--reason", reason, "--yes"],
        { cwd: w.work, env: { ...w.env("alice"), DEPLOY_LOG: deployLog }, stdio: ["ignore", "pipe", "pipe"] },
      );
      let seen = "";
      child.stderr.on("data", (d: Buffer) => (seen += d.toString()));
      const exited = new Promise<number | null>((r) => child.on("close", (c) => r(c)));
      // Like `head -1`: one line read, then both pipes closed, while the intent is at the remote.
      await until(() => seen.includes("\n") && existsSync(waiting), "a first line and the intent's push");
      child.stdout.destroy();
      child.stderr.destroy();
      await writeFile(release, "");
      expect(await exited).toBe(0);
      expect(await lines()).toEqual(["start eu-west-1", "done eu-west-1"]);
      expect(await lastRecord()).toMatchObject({ type: "result", op: "failover", outcome: "applied" });
      expect(JSON.parse((await w.run("bob", ["status", "--json"])).stdout).unfinished).toEqual([]);
    } finally {
      await rm(hook, { force: true });
    }
  });
});
