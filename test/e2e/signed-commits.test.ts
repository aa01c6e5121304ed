/**
 * Policy audit.signCommits: each ledger commit also carries an SSH signature that stock
 * `git verify-commit` accepts, made by the same key as the record's signature.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basePolicy, git, makeWorld, type World } from "../helpers/world.js";

const exec = promisify(execFile);
const auditRef = "refs/remotes/origin/optout/audit";

async function verifyCommit(cwd: string, signers: string, commit: string) {
  return exec("git", ["-c", `gpg.ssh.allowedSignersFile=${signers}`, "verify-commit", "--raw", commit], {
    cwd,
  }).then(
    (r) => ({ code: 0, stderr: r.stderr }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
  );
}

describe("audit.signCommits", () => {
  let w: World;
  let signers: string;
  beforeAll(async () => {
    w = await makeWorld({ policy: basePolicy({ audit: { signCommits: true } }) });
    signers = join(w.dir, "allowed_signers");
    await writeFile(signers, await git(w.work, "show", "origin/main:.optout/allowed_signers"));
  });
  afterAll(() => w.cleanup());

  it("git verify-commit accepts every ledger commit, signed by the record's signer", async () => {
    const skip = await w.run("alice", ["skip", "lint", "--reason", "linter is broken today", "--json"]);
    expect(skip.code, skip.stderr).toBe(0);
    expect((await w.run("bob", ["revert", JSON.parse(skip.stdout).id])).code).toBe(0);
    const commits = (await git(w.work, "rev-list", auditRef)).split("\n");
    expect(commits).toHaveLength(2);
    const signersOf: string[] = [];
    for (const c of commits) {
      const v = await verifyCommit(w.work, signers, c);
      expect(v.code, v.stderr).toBe(0);
      signersOf.push(/Good "git" signature for (\S+)/.exec(v.stderr)?.[1] ?? "");
    }
    expect(signersOf).toEqual(["bob", "alice"]);
    // The records' own signatures and the chain are untouched by the extra header.
    const log = await w.run("bob", ["log", "--verify"]);
    expect(log.code, log.stderr).toBe(0);
  });

  it("a commit whose signed content was changed does not verify", async () => {
    const tip = await git(w.work, "rev-parse", auditRef);
    const raw = await git(w.work, "cat-file", "commit", tip);
    const forged = raw.replace(/^author (.*)$/m, "author mallory <mallory@example.com> 1700000000 +0000");
    const child = execFile("git", ["hash-object", "-t", "commit", "-w", "--stdin"], { cwd: w.work });
    let oid = "";
    child.stdout!.on("data", (d: Buffer) => (oid += d.toString()));
    child.stdin!.end(`${forged}\n`);
    await new Promise((r) => child.on("close", r));
    oid = oid.trim();
    expect(oid).toMatch(/^[0-9a-f]{40}$/);
    const v = await verifyCommit(w.work, signers, oid);
    expect(v.code).not.toBe(0);
  });
});
