/**
 * The override flow on the plain-git provider, end to end: the built CLI as a child process, a
 * real bare remote, real keys, and stock `ssh-keygen -Y verify` on every record written.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { git, makeWorld, type World } from "../helpers/world.js";

const exec = promisify(execFile);

/** Every record on the remote's audit branch, checked by ssh-keygen alone. */
async function sshKeygenVerifyAll(w: World): Promise<number> {
  const audit = join(w.dir, `audit-${Date.now()}`);
  await exec("git", ["clone", "-q", "--branch", "optout/audit", w.remote, audit]);
  const files = (await git(audit, "ls-files", "records")).split("\n").filter((f) => f.endsWith(".json"));
  const signers = join(w.dir, "signers-for-audit");
  await writeFile(signers, await git(w.work, "show", "origin/main:.optout/allowed_signers"));
  for (const f of files) {
    const record = JSON.parse(await readFile(join(audit, f), "utf8"));
    const child = execFile("ssh-keygen", [
      "-Y",
      "verify",
      "-f",
      signers,
      "-I",
      record.signer,
      "-n",
      "optout-audit",
      "-s",
      join(audit, `${f}.sig`),
    ]);
    child.stdin!.end(await readFile(join(audit, f)));
    const code = await new Promise<number>((r) => child.on("close", (c) => r(c ?? -1)));
    expect(code, `ssh-keygen rejects ${f}`).toBe(0);
  }
  return files.length;
}

describe("skip → guard → revert on plain git", () => {
  let w: World;
  beforeAll(async () => {
    w = await makeWorld({ unlisted: ["mallory"], people: ["alice", "bob", "carol"] });
  });
  afterAll(() => w.cleanup());

  it("guard says run when nothing is waived", async () => {
    const r = await w.run("alice", ["guard", "lint"]);
    expect(r.stdout.trim()).toBe("run");
    expect(r.code).toBe(1);
  });

  it("waives only the named stage on the named ref, until reverted", async () => {
    const skip = await w.run("alice", [
      "skip",
      "lint",
      "--reason",
      "linter crashes on node 22, INC-4411",
      "--json",
    ]);
    expect(skip.stderr).toBe("");
    expect(skip.code).toBe(0);
    const out = JSON.parse(skip.stdout);
    expect(out).toMatchObject({ type: "skip", status: "applied", revert: `optout revert ${out.id}` });
    expect(out.record).toMatchObject({
      seq: 1,
      prev: null,
      signer: "alice",
      actor: { provider: "git", login: "alice" },
    });
    expect(out.record.target).toEqual({ stage: "lint", ref: "main", sha: null });

    const g1 = await w.run("bob", ["guard", "lint"]);
    expect([g1.code, g1.stdout.trim()]).toEqual([0, "skip"]);
    // Another stage, another ref: still run.
    expect((await w.run("bob", ["guard", "e2e"])).code).toBe(1);
    const other = await w.run("bob", ["guard", "lint", "--ref", "release"]);
    expect([other.code, other.stdout.trim()]).toEqual([1, "run"]);
    // A CI job on another branch, told by the CI variables.
    expect((await w.run("bob", ["guard", "lint"], { env: { GITHUB_REF_NAME: "feature-x" } })).code).toBe(1);

    const status = await w.run("bob", ["status", "--json"]);
    expect(JSON.parse(status.stdout).active.map((e: { id: string }) => e.id)).toEqual([out.id]);

    const revert = await w.run("bob", ["revert", out.id, "--reason", "linter fixed"]);
    expect(revert.code).toBe(0);
    expect(revert.stdout).toContain(`reverted skip lint@main (${out.id})`);
    const g2 = await w.run("alice", ["guard", "lint"]);
    expect([g2.code, g2.stdout.trim()]).toEqual([1, "run"]);

    const verify = await w.run("carol", ["log", "--verify"]);
    expect(verify.stdout).toContain("verified 2 record(s)");
    expect(verify.code).toBe(0);
    expect(await sshKeygenVerifyAll(w)).toBe(2);
  });

  it("writes a deny record when the policy refuses, and nothing for bad input", async () => {
    const before = await w.run("alice", ["log", "--json"]);
    const n = JSON.parse(before.stdout).records.length;

    const denied = await w.run("carol", ["skip", "lint", "--reason", "carol wants to skip lint today"]);
    expect(denied.code).toBe(3);
    expect(denied.stderr).toMatch(/optout: carol may not skip lint/);
    expect(denied.stderr).toMatch(/hint: the policy allows: user:alice, user:bob/);

    const short = await w.run("alice", ["skip", "lint", "--reason", "too short"]);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/--reason is 9 visible characters; skip lint needs at least 15/);

    const long = await w.run("alice", ["skip", "e2e", "--reason", "e2e env is down, INC-1", "--ttl", "3h"]);
    expect(long.code).toBe(2);
    expect(long.stderr).toMatch(/--ttl is longer than the 2h the policy allows for skip e2e/);

    const badTtl = await w.run("alice", [
      "skip",
      "lint",
      "--reason",
      "e2e env is down, INC-1",
      "--ttl",
      "soon",
    ]);
    expect(badTtl.code).toBe(2);

    const unknownStage = await w.run("alice", ["skip", "lnt", "--reason", "e2e env is down, INC-1"]);
    expect(unknownStage.code).toBe(2);
    expect(unknownStage.stderr).toMatch(/unknown stage "lnt"/);

    // A key that is not in allowed_signers cannot write anything, not even a denial.
    const stranger = await w.run("mallory", ["skip", "lint", "--reason", "let me through please"]);
    expect(stranger.code).toBe(3);
    expect(stranger.stderr).toMatch(
      /your signing key SHA256:\S+ is not in \.optout\/allowed_signers on origin\/main/,
    );

    const after = JSON.parse((await w.run("alice", ["log", "--json"])).stdout).records;
    expect(after.length).toBe(n + 1);
    expect(after[0]).toMatchObject({
      type: "deny",
      outcome: "denied",
      op: "skip",
      actor: { login: "carol" },
    });
    for (const out of [denied, short, long, stranger]) expect(out.stderr).not.toMatch(/\n\s+at /);
  });

  it("--dry-run writes nothing anywhere", async () => {
    const fresh = await makeWorld();
    try {
      const before = await git(fresh.work, "for-each-ref");
      const r = await fresh.run("alice", [
        "skip",
        "lint",
        "--reason",
        "linter crashes on node 22",
        "--dry-run",
      ]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/dry run: nothing was changed/);
      expect(r.stdout).toMatch(/ledger: append skip record/);
      expect(await git(fresh.work, "ls-remote", "origin", "optout/audit")).toBe("");
      expect(await git(fresh.work, "for-each-ref")).toBe(before);
      expect(existsSync(join(fresh.work, ".git", "optout"))).toBe(false);
      const denied = await fresh.run("alice", [
        "skip",
        "e2e",
        "--reason",
        "x".repeat(20),
        "--ttl",
        "9h",
        "--dry-run",
      ]);
      expect(denied.code).toBe(2);
    } finally {
      await fresh.cleanup();
    }
  });
});

describe("expiry", () => {
  it("guard stops honouring an override at its expiry, and expire records it once", async () => {
    const w = await makeWorld();
    try {
      const skip = await w.run("alice", [
        "skip",
        "lint",
        "--reason",
        "scanner down, INC-77",
        "--ttl",
        "1h",
        "--json",
      ]);
      expect(skip.code).toBe(0);
      const id = JSON.parse(skip.stdout).id;
      expect((await w.run("bob", ["guard", "lint"])).code).toBe(0);
      expect((await w.run("bob", ["expire"])).stdout.trim()).toBe("nothing to expire");
      // The clock, not a sleep: an hour and a minute later.
      const later = {
        OPTOUT_NOW: new Date(Date.parse(JSON.parse(skip.stdout).expiresAt) + 60_000).toISOString(),
      };
      expect((await w.run("bob", ["guard", "lint"], { env: later })).code).toBe(1);
      expect(JSON.parse((await w.run("bob", ["status", "--json"], { env: later })).stdout).active).toEqual(
        [],
      );
      const dry = await w.run("bob", ["expire", "--dry-run"], { env: later });
      expect(dry.stdout).toMatch(/^would expire skip lint@main/);
      const exp = await w.run("bob", ["expire"], { env: later });
      expect(exp.stdout.trim()).toBe(`expired skip lint@main (${id})`);
      expect((await w.run("bob", ["expire"], { env: later })).stdout.trim()).toBe("nothing to expire");
      const log = JSON.parse((await w.run("bob", ["log", "--json"], { env: later })).stdout).records;
      expect(log.map((r: { type: string }) => r.type)).toEqual(["expire", "skip"]);
      expect(log[0].links.reverts).toBe(id);
    } finally {
      await w.cleanup();
    }
  });

  it("expire --now cannot be later than the clock: an end is recorded when it happens", async () => {
    const w = await makeWorld();
    try {
      await w.run("alice", ["skip", "lint", "--reason", "scanner down, INC-77", "--ttl", "1h"]);
      const later = new Date(Date.now() + 2 * 3_600_000).toISOString();
      const r = await w.run("bob", ["expire", "--now", later]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--now .* is later than this machine's clock/);
      expect((await w.run("bob", ["guard", "lint"])).code).toBe(0);
    } finally {
      await w.cleanup();
    }
  });
});
