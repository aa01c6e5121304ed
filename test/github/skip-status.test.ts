/**
 * Skips by commit status against the fake GitHub, through the real skip/revert/expire commands,
 * the real ledger (temp repo + bare remote, real keys) and the provider as the factory builds it.
 */
import { describe, expect, it } from "vitest";
import { runExpire } from "../../src/commands/expire/run.js";
import { runRevert } from "../../src/commands/revert/run.js";
import { runSkip } from "../../src/commands/skip/run.js";
import { recordPath } from "../../src/ledger/store.js";
import { useHarness } from "./harness.js";

const h = useHarness();

const reason = "linter crashes on node 22, INC-4411";

async function skip(person: string, o: { stage: string; ref?: string; sha?: string; ttl?: string }) {
  const { f, out } = h.factory(person, { json: true });
  await runSkip(f, { reason, ...o });
  return { id: JSON.parse(out.stdout).id as string, out };
}

describe("skip with mechanism status", () => {
  it("posts success on the context with the record's link, in exactly four requests", async () => {
    const repo = h.repo();
    const sha = repo.branches.get("main")!;
    repo.addStatus(sha, {
      state: "failure",
      context: "ci/lint",
      description: "2 problems",
      target_url: "https://ci.example.com/1",
    });

    const { id, out } = await skip("alice", { stage: "lint", ref: "main" });

    // identity, role check (lint allows role:write), the ref's commit and its latest statuses
    // (combined status: one request), post.
    expect(h.fake.lines()).toEqual([
      "GET /user",
      "GET /repos/acme/shop/collaborators/alice/permission",
      "GET /repos/acme/shop/commits/main/status",
      `POST /repos/acme/shop/statuses/${sha}`,
    ]);
    expect(repo.latest(sha, "ci/lint")).toMatchObject({
      state: "success",
      description: `waived by optout: ${reason}`,
      target_url: `${h.fake.url}/acme/shop/blob/${h.auditBranch()}/${recordPath(id).path}`,
      creator: "alice",
    });
    const doc = JSON.parse(out.stdout);
    expect(doc.record.before).toEqual({
      state: "failure",
      description: "2 problems",
      targetUrl: "https://ci.example.com/1",
    });
    expect(doc.result.after).toMatchObject({ state: "success", sha, context: "ci/lint" });
    expect(doc.record.target).toEqual({ stage: "lint", ref: "main", sha: null });
    // The verbose request log: method, path, status, time; no query, no token.
    expect(out.log).toContainEqual(
      expect.stringMatching(/^GET \/repos\/acme\/shop\/commits\/main\/status 200 \d+ms$/),
    );
    expect(out.log.join("\n")).not.toMatch(/per_page|ghp_/);
  });

  it("clips the description to GitHub's 140 characters", async () => {
    const repo = h.repo();
    const sha = repo.branches.get("main")!;
    const { f } = h.factory("alice", { json: true });
    await runSkip(f, { stage: "lint", ref: "main", reason: `${"very long reason ".repeat(12)}end` });
    const d = repo.latest(sha, "ci/lint")!.description!;
    expect([...d]).toHaveLength(140);
    expect(d.endsWith("…")).toBe(true);
  });

  it("revert re-posts the status that was there before", async () => {
    const repo = h.repo();
    const sha = repo.branches.get("main")!;
    repo.addStatus(sha, {
      state: "failure",
      context: "ci/lint",
      description: "2 problems",
      target_url: "https://ci.example.com/1",
    });
    const { id } = await skip("alice", { stage: "lint", sha });
    h.fake.requests = [];

    const { f } = h.factory("alice");
    await runRevert(f, { id, reason: "fixed the linter" });

    expect(repo.latest(sha, "ci/lint")).toMatchObject({
      state: "failure",
      description: "2 problems",
      target_url: "https://ci.example.com/1",
    });
    // identity, read the current status (still ours?), post: whoever made it may undo it, no role check.
    expect(h.fake.lines()).toEqual([
      "GET /user",
      `GET /repos/acme/shop/commits/${sha}/status`,
      `POST /repos/acme/shop/statuses/${sha}`,
    ]);
  });

  it("expiry with nothing before posts pending, because GitHub cannot delete a status", async () => {
    const repo = h.repo();
    const sha = repo.branches.get("main")!;
    const { id } = await skip("alice", { stage: "lint", sha, ttl: "30m" });
    expect(repo.latest(sha, "ci/lint")?.state).toBe("success");

    // 31 minutes on: the clock, not a wait.
    const { f, out } = h.factory("alice", {
      env: { OPTOUT_NOW: new Date(Date.now() + 31 * 60_000).toISOString() },
    });
    await runExpire(f, {});

    expect(out.stdout).toContain(`expired skip lint@${sha.slice(0, 12)} (${id})`);
    const now = repo.latest(sha, "ci/lint")!;
    expect(now.state).toBe("pending");
    expect(now.description).toBe(`optout waiver ${id} reverted: run the check again`);
    // The pending status links to the expire record that explains it.
    expect(now.target_url).toMatch(
      /\/blob\/optout\/audit\/records\/\d{4}\/\d{2}\/\d{2}\/[0-9A-Z]{26}\.json$/,
    );
    expect(now.target_url).not.toContain(id);
  });

  it("leaves a newer status alone: CI ran again after the waiver", async () => {
    const repo = h.repo();
    const sha = repo.branches.get("main")!;
    repo.addStatus(sha, { state: "failure", context: "ci/lint" });
    const { id } = await skip("alice", { stage: "lint", sha });
    repo.addStatus(sha, { state: "success", context: "ci/lint", description: "all good" });
    h.fake.requests = [];

    const { f, out } = h.factory("alice");
    await runRevert(f, { id, reason: "not needed any more" });

    expect(repo.latest(sha, "ci/lint")).toMatchObject({ state: "success", description: "all good" });
    expect(h.fake.count("POST")).toBe(0);
    expect(out.stderr).toContain("has a newer status (success) than the waiver; leaving it");
  });

  it("a ref GitHub does not have is a usage error, before anything is recorded", async () => {
    const { f } = h.factory("alice");
    await expect(runSkip(f, { stage: "lint", ref: "no-such-branch", reason })).rejects.toMatchObject({
      exitCode: 2,
      message: 'ref "no-such-branch" is not on GitHub (acme/shop)',
    });
    expect(h.fake.count("POST")).toBe(0);
  });

  it("mechanism guard is a ledger record only: no GitHub write, and revert is ledger only too", async () => {
    const { id } = await skip("alice", { stage: "docs", ref: "main" });
    const { f } = h.factory("alice");
    await runRevert(f, { id, reason: "docs build fixed" });
    // docs allows user:alice, so identity is all GitHub is asked, once per command.
    expect(h.fake.lines()).toEqual(["GET /user", "GET /user"]);
  });

  it("--dry-run only reads, and says which request it would make", async () => {
    const repo = h.repo();
    const sha = repo.branches.get("main")!;
    const { f, out } = h.factory("alice", { dryRun: true });
    await runSkip(f, { stage: "lint", ref: "main", reason });
    expect(h.fake.requests.every((r) => r.method === "GET")).toBe(true);
    expect(out.stdout).toContain(`POST /repos/acme/shop/statuses/${sha}`);
    expect(out.stderr).toContain(`will post status success on ci/lint @ ${sha.slice(0, 7)} (main) for 4h`);
    expect(repo.latest(sha, "ci/lint")).toBeUndefined();
  });
});
