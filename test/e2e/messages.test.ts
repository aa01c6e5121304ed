/**
 * Messages that tell the truth: each names what is wrong and how to fix it, with the exit code of
 * the condition (2 for a usage or configuration problem), never an errno or a misleading hint.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basePolicy, git, makeWorld, runCli, type World } from "../helpers/world.js";

const reason = "linter crashes on node 22";
let w: World;

beforeAll(async () => {
  w = await makeWorld({
    people: ["alice", "bob", "carol"],
    policy: basePolicy({
      groups: { oncall: ["user:alice", "user:bob"], approvers: ["user:alice", "user:carol"] },
      stages: {
        lint: { mechanism: "guard", allow: ["oncall"] },
        deploy: {
          mechanism: "guard",
          allow: ["oncall"],
          approvals: { required: 1, from: ["user:alice", "approvers"] },
        },
      },
    }),
  });
});
afterAll(() => w.cleanup());

describe("messages", () => {
  it("no signing key: names ssh-keygen and OPTOUT_SIGNING_KEY", async () => {
    const r = await w.run("alice", ["skip", "lint", "--reason", reason], {
      env: { OPTOUT_SIGNING_KEY: join(w.dir, "no-such-key") },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^optout: no signing key at .*no-such-key$/m);
    expect(r.stderr).toMatch(
      /^hint: make one with `ssh-keygen -t ed25519 -f .*`, or point OPTOUT_SIGNING_KEY at/m,
    );
    expect(r.stderr).not.toMatch(/ENOENT/);
  });

  it("no origin remote: says so, and how to add it", async () => {
    const clone = await w.clone("no-origin");
    await git(clone, "remote", "rename", "origin", "upstream");
    const r = await w.run("alice", ["skip", "lint", "--reason", reason], { cwd: clone });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^optout: this clone has no remote "origin"$/m);
    expect(r.stderr).toMatch(/^hint: add it with `git remote add origin <url>`/m);
    expect(r.stderr).not.toMatch(/set "repo"/);
  });

  it("outside a repository: not a git repository, not a missing policy", async () => {
    const dir = await mkdtemp(join(tmpdir(), "optout-nowhere-"));
    try {
      const r = await runCli(["skip", "lint", "--reason", reason], { cwd: dir, env: w.env("alice") });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^optout: .* is not inside a git repository$/m);
      expect(r.stderr).not.toMatch(/policy file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("log --type and --stage that match nothing there is: exit 2 with the choices", async () => {
    const type = await w.run("bob", ["log", "--type", "skp"]);
    expect(type.code).toBe(2);
    expect(type.stderr).toMatch(/^optout: --type skp is not a record type$/m);
    expect(type.stderr).toMatch(/^hint: did you mean skip\? one of: .*\bdeny\b.*\bskip\b/m);
    const stage = await w.run("bob", ["log", "--stage", "lnt"]);
    expect(stage.code).toBe(2);
    expect(stage.stderr).toMatch(/^optout: --stage lnt is not a stage of the policy or of any record$/m);
    expect(stage.stderr).toMatch(/^hint: did you mean lint\? one of: deploy, lint$/m);
    // A known stage nothing was recorded for yet is simply empty.
    const empty = await w.run("bob", ["log", "--stage", "lint"]);
    expect(empty.code).toBe(0);
  });

  it("a zero duration is refused alike everywhere", async () => {
    const ttl = await w.run("alice", ["skip", "lint", "--reason", reason, "--ttl", "0m"]);
    const settle = await w.run("alice", ["sync", "--settle-after", "0m"]);
    for (const [r, flag] of [
      [ttl, "--ttl"],
      [settle, "--settle-after"],
    ] as const) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^optout: ${flag}: "0m" is no time at all$`, "m"));
    }
  });

  it("the approval hint does not name the requester as an approver", async () => {
    const r = await w.run("alice", ["skip", "deploy", "--reason", "deploy stage flakes, INC-7"]);
    expect(r.code, r.stderr).toBe(4);
    // Groups are resolved to their members: alice is one, and she is the requester.
    expect(r.stderr).toMatch(/awaits 1 approval\(s\) from user:carol$/m);
    expect(r.stderr).not.toMatch(/user:alice/);
  });
});
