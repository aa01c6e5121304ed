/**
 * docs/auditing.md's checks, run as written with bash and no optout on PATH, on a ledger the
 * built CLI wrote to a real remote: they pass on the real ledger and fail on tampered copies.
 */
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

async function audit(remote: string, which: "quick" | "full") {
  const dir = join(w.dir, `audit-${which}-${Math.random().toString(36).slice(2)}`);
  await exec("git", ["clone", "-q", remote, dir]);
  return runShell("bash", [scripts[which]], { cwd: dir, env: auditorEnv(w.dir) });
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
    expect(full.stdout).toMatch(/^BAD records\/.*: signature does not verify for alice$/m);
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
