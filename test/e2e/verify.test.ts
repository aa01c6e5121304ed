/**
 * `log --verify` against an attacker with push access to the audit branch: each tampering is
 * done with stock git plumbing (test/helpers/tamper.ts) and must be reported, naming the record.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { allowedSignersLine } from "../helpers/keys.js";
import { forcePush, readBlob, readSteps, recordPathOf, replay, writeBlob } from "../helpers/tamper.js";
import { git, makeWorld, type World } from "../helpers/world.js";

const reasons = ["first override for lint", "second override for lint", "third override for lint"];

describe("log --verify catches tampering", () => {
  let w: World;
  let auditor: string;
  beforeEach(async () => {
    w = await makeWorld({ people: ["alice", "bob", "mallory"] });
    for (const [i, reason] of reasons.entries()) {
      const r = await w.run(i % 2 ? "bob" : "alice", [
        "skip",
        "lint",
        "--reason",
        reason,
        "--ref",
        `branch-${i}`,
        "--allow-missing-ref",
      ]);
      expect(r.code).toBe(0);
    }
    auditor = await w.clone("auditor");
    const ok = await w.run("bob", ["log", "--verify"], { cwd: auditor });
    expect(ok.code).toBe(0);
    await git(w.work, "fetch", "-q", "origin", "+refs/heads/optout/audit:refs/remotes/origin/optout/audit");
  });
  afterEach(() => w.cleanup());

  async function steps() {
    return readSteps(w.work, "refs/remotes/origin/optout/audit");
  }

  it("an edited record", async () => {
    const s = await steps();
    const path = recordPathOf(s[1]!);
    const text = await readBlob(w.work, s[1]!.files.get(path)!);
    s[1]!.files.set(path, await writeBlob(w.work, text.replace("second override", "harmless change")));
    await forcePush(w.work, await replay(w.work, s));
    // A fresh clone has no anchor: the content checks alone must catch it.
    const fresh = await w.clone("fresh-edit");
    const r = await w.run("bob", ["log", "--verify"], { cwd: fresh });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `verification failed at record #2 \\S+ \\(${path}, commit [0-9a-f]{12}\\): signature does not verify`,
      ),
    );
  });

  it("a deleted record", async () => {
    const s = await steps();
    const dropped = recordPathOf(s[1]!);
    await forcePush(w.work, await replay(w.work, [s[0]!, s[2]!]));
    const fresh = await w.clone("fresh-delete");
    const r = await w.run("bob", ["log", "--verify"], { cwd: fresh });
    expect(r.code).toBe(1);
    // The record after the gap names a predecessor that is not there.
    expect(r.stderr).toMatch(
      /verification failed at record #3 \S+ \(records\/[^)]+\): prev names no earlier record/,
    );
    expect(dropped).not.toBe(recordPathOf(s[2]!));
  });

  it("reordered commits", async () => {
    const s = await steps();
    await forcePush(w.work, await replay(w.work, [s[0]!, s[2]!, s[1]!]));
    const fresh = await w.clone("fresh-reorder");
    const r = await w.run("bob", ["log", "--verify"], { cwd: fresh });
    expect(r.code).toBe(1);
    // #3 now comes before the record it chains onto; #2 still chains onto #1, so it counts.
    expect(r.stderr).toMatch(/verification failed at record #3 .*: prev names no earlier record/);
  });

  it("a record signed by a key that is not in allowed_signers", async () => {
    // mallory may sign today, writes a record, then is removed from allowed_signers.
    const m = await w.run("mallory", ["skip", "lint", "--reason", "mallory skips lint now", "--ref", "main"]);
    expect(m.code).toBe(2 + 1); // mallory is in allowed_signers but not allowed to skip lint: a deny record
    const signers = ["alice", "bob"].map((p) => allowedSignersLine(p, w.keys[p]!.publicLine)).join("\n");
    await w.pushMain({ ".optout/allowed_signers": `${signers}\n` }, "remove mallory");
    const r = await w.run("bob", ["log", "--verify"], { cwd: auditor });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /verification failed at record #4 \S+ \(records\/.+\): signer "mallory" with this key is not in allowed_signers/,
    );
  });

  it("a force-push that drops the newest records", async () => {
    const s = await steps();
    await forcePush(w.work, await replay(w.work, s.slice(0, 2)));
    const r = await w.run("bob", ["log", "--verify"], { cwd: auditor });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /history was rewritten: commit [0-9a-f]{12}, the tip this clone saw last, is no longer on the branch/,
    );
  });

  it("an extra file slipped into a record commit", async () => {
    const s = await steps();
    s[2]!.files.set("records/evil.sh", await writeBlob(w.work, "echo pwned"));
    await forcePush(w.work, await replay(w.work, s));
    const fresh = await w.clone("fresh-extra");
    const r = await w.run("bob", ["log", "--verify", "--json"], { cwd: fresh });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(false);
    expect(report.problems.map((p: { problem: string }) => p.problem)).toContain(
      "commit adds records/evil.sh; a record commit only adds its record and signature",
    );
  });
});
