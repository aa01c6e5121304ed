/**
 * docs/auditing.md's checks, run as written with bash and no optout on PATH, on a ledger the
 * built CLI wrote to a real remote: they pass on the real ledger and fail on tampered copies.
 */
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { craft, lastLink, skipRecord } from "../helpers/craft.js";
import { allowedSignersLine } from "../helpers/keys.js";
import { git, makeWorld, type World } from "../helpers/world.js";
import { docBlock, runShell } from "./helpers.js";

const exec = promisify(execFile);
const hasJq = await exec("jq", ["--version"]).then(
  () => true,
  () => false,
);

let w: World;
let scripts: { quick: string; full: string };
/** Stock tools only: the system PATH, which must not hold an optout. */
const auditorEnv = (home: string) => ({ PATH: "/usr/bin:/bin", HOME: home, LC_ALL: "C" });

async function audit(remote: string, which: "quick" | "full", world = w, shell = "bash") {
  const dir = join(world.dir, `audit-${which}-${Math.random().toString(36).slice(2)}`);
  await exec("git", ["clone", "-q", remote, dir]);
  return runShell(shell, [scripts[which]], { cwd: dir, env: auditorEnv(world.dir) });
}

/** A bare copy of `world`'s remote, for one variant of its history. */
async function copyOf(world: World, name: string): Promise<string> {
  const remote = join(world.dir, `${name}.git`);
  await exec("git", ["clone", "-q", "--bare", world.remote, remote]);
  return remote;
}

/** A bare copy of the remote whose audit branch `edit` rewrites (as an attacker with force-push could). */
async function tampered(name: string, edit: (clone: string) => Promise<void>): Promise<string> {
  const remote = join(w.dir, `${name}.git`);
  await exec("git", ["clone", "-q", "--bare", w.remote, remote]);
  const clone = join(w.dir, `${name}-work`);
  await exec("git", ["clone", "-q", "--branch", "optout/audit", remote, clone]);
  await git(clone, "config", "user.name", "Mallory");
  await git(clone, "config", "user.email", "mallory@example.com");
  await edit(clone);
  await git(clone, "push", "-q", "--force", "origin", "optout/audit");
  return remote;
}

beforeAll(async () => {
  w = await makeWorld({ people: ["alice", "bob"] });
  const reason = "linter crashes on node 22, INC-4411";
  const skip = await w.run("alice", ["skip", "lint", "--reason", reason, "--json"]);
  expect(skip.code, skip.stderr).toBe(0);
  const id = JSON.parse(skip.stdout).id as string;
  expect((await w.run("bob", ["revert", id, "--reason", "linter fixed upstream"])).code).toBe(0);
  expect((await w.run("bob", ["skip", "e2e", "--reason", reason])).code).toBe(3); // a deny record
  expect((await w.run("alice", ["skip", "e2e", "--reason", reason, "--ttl", "1h"])).code).toBe(0);
  scripts = { quick: join(w.dir, "quick.sh"), full: join(w.dir, "verify-ledger.sh") };
  await writeFile(scripts.quick, await docBlock("docs/auditing.md", "auditing:quick"));
  await writeFile(scripts.full, await docBlock("docs/auditing.md", "auditing:full"));
});
afterAll(() => w.cleanup());

describe("docs/auditing.md, with stock tools only", () => {
  it("runs where no optout is on PATH", async () => {
    const r = await runShell("sh", ["-c", "command -v optout"], { cwd: w.dir, env: auditorEnv(w.dir) });
    expect(r.code).not.toBe(0);
  });

  it.skipIf(!hasJq)("checks every signature of the ledger (jq loop)", async () => {
    const r = await audit(w.remote, "quick");
    expect(r.stderr + r.stdout).not.toContain("BAD");
    expect(r.code, r.stderr).toBe(0);
    expect((r.stdout + r.stderr).match(/Good "optout-audit" signature for (alice|bob)/g)).toHaveLength(4);
  });

  it("checks the whole chain: signatures, seq, prev, parents, files", async () => {
    const r = await audit(w.remote, "full");
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines.slice(0, 4).map((l) => l.split(" ").slice(0, 3).join(" "))).toEqual([
      "ok 1 skip",
      "ok 2 revert",
      "ok 3 deny",
      "ok 4 skip",
    ]);
    expect(lines.at(-1)).toMatch(/^verified 4 records; tip [0-9a-f]{40}$/);
    // optout agrees.
    expect((await w.run("bob", ["log", "--verify"])).code).toBe(0);
  });

  it("fails on a record edited after signing", async () => {
    const remote = await tampered("edited", async (clone) => {
      // The newest record, in the commit that added it: its signature no longer matches.
      const added = await git(clone, "diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD");
      const file = added.split("\n").find((f) => /^records\/.*\.json$/.test(f))!;
      const text = await readFile(join(clone, file), "utf8");
      await writeFile(join(clone, file), text.replace("linter crashes", "linter CRASHES"));
      await git(clone, "commit", "-q", "-a", "--amend", "--no-edit");
    });
    if (hasJq) {
      const quick = await audit(remote, "quick");
      expect(quick.code).not.toBe(0);
      expect(quick.stdout).toMatch(/^BAD ledger\/records\//m);
    }
    const full = await audit(remote, "full");
    expect(full.code).not.toBe(0);
    expect(full.stdout).toMatch(/^BAD records\/.*: signature does not verify for alice at \S+$/m);
  });

  it("fails on a record removed from the branch", async () => {
    const remote = await tampered("removed", async (clone) => {
      const first = (await git(clone, "ls-files", "records")).split("\n").find((f) => f.endsWith(".json"))!;
      await git(clone, "rm", "-q", first, `${first}.sig`);
      await git(clone, "commit", "-q", "-m", "tidy up");
    });
    const full = await audit(remote, "full");
    expect(full.code).not.toBe(0);
    expect(full.stdout).toMatch(/^BAD [0-9a-f]{40}: must add exactly one record$/m);
  });
});

describe("docs/auditing.md and a key retired with valid-before", () => {
  // Alice's key signs records on 1 January and 1 July 2024; on 1 June it was retired. Bob's key
  // signs one on 1 March. Each record is checked at its own time, not today's.
  let r: World;
  const at = (time: string) => ({ env: { OPTOUT_NOW: time } });
  beforeAll(async () => {
    r = await makeWorld({ people: ["alice", "bob"] });
    const reason = "linter crashes on node 22, INC-4411";
    for (const [who, ref, time] of [
      ["alice", "one", "2024-01-01T10:00:00.000Z"],
      ["bob", "two", "2024-03-01T10:00:00.000Z"],
      ["alice", "three", "2024-07-01T10:00:00.000Z"],
    ] as const) {
      const s = await r.run(
        who,
        ["skip", "lint", "--ref", ref, "--allow-missing-ref", "--reason", reason],
        at(time),
      );
      expect(s.code, s.stderr).toBe(0);
    }
    const retired = allowedSignersLine("alice", r.keys.alice!.publicLine, 'valid-before="20240601000000Z"');
    const bob = allowedSignersLine("bob", r.keys.bob!.publicLine);
    await r.pushMain({ ".optout/allowed_signers": `${retired}\n${bob}\n` }, "retire alice's key");
  });
  afterAll(() => r.cleanup());

  it("passes the records signed before valid-before, and optout agrees", async () => {
    // The branch as it was before alice's key signed after its retirement.
    const before = await copyOf(r, "before-july");
    const tip = await git(r.work, "ls-remote", before, "refs/heads/optout/audit");
    const commits = (await exec("git", ["--git-dir", before, "rev-list", tip.split("\t")[0]!])).stdout
      .trim()
      .split("\n");
    await exec("git", ["--git-dir", before, "update-ref", "refs/heads/optout/audit", commits[1]!]);
    for (const shell of ["bash", "sh"]) {
      const full = await audit(before, "full", r, shell);
      expect(full.code, full.stdout + full.stderr).toBe(0);
      expect(full.stdout).toMatch(/^ok 1 skip .* by alice\nok 2 skip .* by bob\nverified 2 records; tip /m);
    }
    if (hasJq) {
      const quick = await audit(before, "quick", r);
      expect(quick.code, quick.stdout + quick.stderr).toBe(0);
    }
    const clone = join(r.dir, "before-july-work");
    await exec("git", ["clone", "-q", before, clone]);
    const verify = await r.run("bob", ["log", "--verify"], { cwd: clone });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it("fails the record signed after valid-before, and optout agrees", async () => {
    const full = await audit(r.remote, "full", r);
    expect(full.code).not.toBe(0);
    expect(full.stdout).toMatch(
      /^ok 1 skip .* by alice\nok 2 skip .* by bob\nBAD records\/2024\/07\/01\/.*: signature does not verify for alice at 2024-07-01T10:00:00\.000Z$/m,
    );
    if (hasJq) {
      const quick = await audit(r.remote, "quick", r);
      expect(quick.code).not.toBe(0);
      expect(quick.stdout).toMatch(/^BAD ledger\/records\/2024\/07\/01\//m);
    }
    const verify = await r.run("bob", ["log", "--verify"]);
    expect(verify.code).toBe(1);
    const third = (await lastLink(r.remote))!;
    expect(verify.stdout + verify.stderr).toContain(third.record.id);
  });

  it("fails a record the retired key signs later but dates before the record it follows", async () => {
    const backdated = await copyOf(r, "backdated");
    const second = (
      await exec("git", ["--git-dir", backdated, "rev-parse", "refs/heads/optout/audit~1"])
    ).stdout.trim();
    await exec("git", ["--git-dir", backdated, "update-ref", "refs/heads/optout/audit", second]);
    // Claims 1 February (alice's key was valid then), chained after bob's record of 1 March.
    const after = await lastLink(backdated);
    const forged = skipRecord(
      { stage: "lint", ref: "main", actor: "alice", time: "2024-02-01T10:00:00.000Z" },
      after,
    );
    await craft(backdated, { record: forged, signWith: r.keys.alice!.privatePath });
    const full = await audit(backdated, "full", r);
    expect(full.code).not.toBe(0);
    expect(full.stdout).toMatch(
      /^BAD records\/2024\/02\/01\/.*: time 2024-02-01T10:00:00\.000Z is before the record it follows$/m,
    );
  });
});
