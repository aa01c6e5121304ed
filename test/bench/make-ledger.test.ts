/**
 * The bench times optout on ledgers written by bench/make-ledger.mjs, not by the CLI: this checks
 * that what it writes is a real ledger — `optout log --verify` accepts it, stock `ssh-keygen`
 * accepts its signatures, and each commit has the shape optout's own appends give it — so the bench measures the thing.
 */
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeLedger } from "../../bench/make-ledger.mjs";
import { git, makeWorld, type World } from "../helpers/world.js";

const exec = promisify(execFile);

describe("bench/make-ledger.mjs", () => {
  let w: World;
  let made: Awaited<ReturnType<typeof makeLedger>>;
  beforeAll(async () => {
    w = await makeWorld({ people: ["alice"] });
    made = await makeLedger({
      gitDir: w.remote,
      records: 50,
      key: w.keys.alice!.privatePath,
      principal: "alice",
    });
  });
  afterAll(() => w.cleanup());

  it("writes a ledger that optout log --verify accepts", async () => {
    const r = await w.run("alice", ["log", "--verify"]);
    expect(r.stdout, r.stderr).toContain("verified 50 record(s)");
    expect(r.code).toBe(0);
  });

  it("writes one commit per record, adding its two files and rewriting the index", async () => {
    await git(w.work, "fetch", "-q", "origin", "optout/audit");
    const log = await git(w.work, "log", "--format=%s%n%b", "--name-status", "--no-renames", "FETCH_HEAD");
    const commits = log.split(/\n(?=optout: )/);
    expect(commits).toHaveLength(50);
    const newest = commits[0]!;
    expect(newest).toContain(`Optout-Seq: 50\nOptout-Record: ${made.last.path}`);
    expect(newest).toContain(`A\t${made.last.path}\nA\t${made.last.path}.sig\nM\tstate/active.json`);
  });

  it("signs records that stock ssh-keygen verifies", async () => {
    const signers = join(w.dir, "signers-for-bench");
    await writeFile(signers, await git(w.work, "show", "origin/main:.optout/allowed_signers"));
    const sig = join(w.dir, "record.json.sig");
    await writeFile(sig, `${await git(w.work, "cat-file", "blob", `FETCH_HEAD:${made.last.path}.sig`)}\n`);
    const record = await exec("git", ["cat-file", "blob", `FETCH_HEAD:${made.last.path}`], {
      cwd: w.work,
      encoding: "buffer",
    });
    const child = execFile("ssh-keygen", [
      "-Y",
      "verify",
      "-f",
      signers,
      "-I",
      "alice",
      "-n",
      "optout-audit",
      "-s",
      sig,
    ]);
    child.stdin!.end(record.stdout);
    const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? -1)));
    expect(code).toBe(0);
  });
});
