/** The notify channel `issue` on GitHub: a comment per event on the policy's tracking issue, and record links. */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runSkip } from "../../src/commands/skip/run.js";
import type { FakeRepo } from "../fakes/github/state.js";
import { githubPolicy, type Harness, makeHarness } from "./harness.js";

let h: Harness;
let repo: FakeRepo;
beforeAll(async () => {
  h = await makeHarness(githubPolicy({ notify: [{ type: "issue", number: 42 }] }));
});
afterAll(() => h.close());
beforeEach(() => {
  repo = h.reset();
  repo.issues.set(42, []);
});
afterEach(() => {
  expect(h.fake.violations).toEqual([]);
});

describe("issue comments", () => {
  it("an applied skip is announced on the tracking issue", async () => {
    const { f, out } = h.factory("alice", { json: true });
    await runSkip(f, { stage: "lint", ref: "main", reason: "linter crashes on node 22, INC-4411" });
    const doc = JSON.parse(out.stdout);
    expect(doc.notifications).toEqual([expect.objectContaining({ channel: "issue", status: "sent" })]);
    expect(repo.issues.get(42)).toHaveLength(1);
    expect(repo.issues.get(42)![0]).toContain(doc.id);
  });

  it("a missing issue is a clear 404; a record link points at the audit branch on GitHub", async () => {
    const p = await h.factory("alice").f.github();
    await expect(p.commentOnIssue(7, "hello")).rejects.toMatchObject({
      message: "GitHub: issue #7 not found on acme/shop, or the token cannot see it (404)",
    });
    expect(p.recordUrl("records/2026/01/02/X.json")).toBe(
      `${h.fake.url}/acme/shop/blob/${h.auditBranch()}/records/2026/01/02/X.json`,
    );
  });

  it("a cancelled comment stops without retrying", async () => {
    h.fake.fail("POST", "/repos/acme/shop/issues/42/comments", { delayMs: 2_000 });
    const p = await h.factory("alice").f.github();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await expect(p.commentOnIssue(42, "hello", ac.signal)).rejects.toMatchObject({
      message: "GitHub: POST /repos/acme/shop/issues/42/comments was cancelled before GitHub answered",
    });
    expect(h.fake.count("POST")).toBe(1);
  });
});
