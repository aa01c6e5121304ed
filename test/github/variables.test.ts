/**
 * Overrides that are Actions variables: stage skips with mechanism `variable`, and deploy flags at
 * repository and environment level — set, unset, revert and expiry restoring the exact before.
 */
import { describe, expect, it } from "vitest";
import { runExpire } from "../../src/commands/expire/run.js";
import { runFlagSet, runFlagUnset } from "../../src/commands/flag/run.js";
import { runRevert } from "../../src/commands/revert/run.js";
import { runSkip } from "../../src/commands/skip/run.js";
import { git } from "../helpers/world.js";
import { useHarness } from "./harness.js";

const h = useHarness();

const reason = "freeze bypass for the hotfix, CHG-12";

/** `optout flag set` as the command runs it; returns its JSON document. */
async function setFlag(person: string, name: string, env: string | null, value: string | null, ttl?: string) {
  const { f, out } = h.factory(person, { json: true });
  if (value === null) await runFlagUnset(f, { name, reason, ...(env ? { env } : {}) });
  else await runFlagSet(f, { name, value, reason, ...(env ? { env } : {}), ...(ttl ? { ttl } : {}) });
  return JSON.parse(out.stdout);
}

describe("skip with mechanism variable", () => {
  it("creates the repo variable (404 → POST), and revert deletes it again", async () => {
    const repo = h.repo();
    const { f, out } = h.factory("alice", { json: true });
    await runSkip(f, { stage: "scan", ref: "main", reason });
    expect(repo.variable("OPTOUT_SKIP_SCAN")).toBe("true");
    expect(h.fake.lines()).toEqual([
      "GET /user",
      "GET /repos/acme/shop/actions/variables/OPTOUT_SKIP_SCAN",
      "POST /repos/acme/shop/actions/variables",
    ]);
    expect(h.fake.requests.at(-1)?.body).toEqual({ name: "OPTOUT_SKIP_SCAN", value: "true" });
    const id = JSON.parse(out.stdout).id as string;

    await runRevert(h.factory("alice").f, { id, reason: "scanner fixed" });
    expect(repo.variable("OPTOUT_SKIP_SCAN")).toBeUndefined();
    expect(h.fake.lines().at(-1)).toBe("DELETE /repos/acme/shop/actions/variables/OPTOUT_SKIP_SCAN");
  });

  it("updates an existing variable (200 → PATCH) and revert puts the old value back", async () => {
    const repo = h.repo();
    repo.setVariable("OPTOUT_SKIP_SCAN", "false");
    const { f, out } = h.factory("alice", { json: true });
    await runSkip(f, { stage: "scan", ref: "main", reason });
    expect(repo.variable("OPTOUT_SKIP_SCAN")).toBe("true");
    expect(h.fake.lines().at(-1)).toBe("PATCH /repos/acme/shop/actions/variables/OPTOUT_SKIP_SCAN");
    expect(h.fake.count("PUT")).toBe(0);

    await runRevert(h.factory("alice").f, { id: JSON.parse(out.stdout).id, reason: "scanner fixed" });
    expect(repo.variable("OPTOUT_SKIP_SCAN")).toBe("false");
  });

  it("two refs share the repo-wide variable: it stays set until the last skip ends", async () => {
    const repo = h.repo();
    repo.commit("release");
    // skip --ref wants the branch on the remote too (it is on the fake GitHub above).
    await git(h.w.work, "push", "-q", "origin", "HEAD:refs/heads/release");
    const first = h.factory("alice", { json: true });
    await runSkip(first.f, { stage: "scan", ref: "main", reason });
    const second = h.factory("alice", { json: true });
    await runSkip(second.f, { stage: "scan", ref: "release", reason, allowMissingRef: true });
    expect(second.out.stderr).toBe("");
    const [a, b] = [JSON.parse(first.out.stdout), JSON.parse(second.out.stdout)];
    // The second inherits the first's before (absent), not the "true" the first set.
    expect(b.record.before).toEqual({ value: null });

    const r1 = h.factory("alice");
    await runRevert(r1.f, { id: a.id, reason: "main is fixed" });
    expect(repo.variable("OPTOUT_SKIP_SCAN")).toBe("true");
    await runRevert(h.factory("alice").f, { id: b.id, reason: "release is fixed" });
    expect(repo.variable("OPTOUT_SKIP_SCAN")).toBeUndefined();
  });
});

describe("deploy flags", () => {
  it("sets an environment-level flag and expiry restores the previous value", async () => {
    const repo = h.repo();
    repo.setVariable("DEPLOY_FREEZE_BYPASS", "false", "production");
    const result = await setFlag("alice", "DEPLOY_FREEZE_BYPASS", "production", "true", "1h");
    expect(repo.variable("DEPLOY_FREEZE_BYPASS", "production")).toBe("true");
    expect(result.record.before).toEqual({ value: "false" });
    expect(result.result.after).toEqual({ value: "true" });
    expect(h.fake.lines()).toEqual([
      "GET /user",
      "GET /repos/acme/shop/collaborators/alice/permission",
      "GET /repos/acme/shop/environments/production/variables/DEPLOY_FREEZE_BYPASS",
      "PATCH /repos/acme/shop/environments/production/variables/DEPLOY_FREEZE_BYPASS",
    ]);

    const later = { OPTOUT_NOW: new Date(Date.now() + 61 * 60_000).toISOString() };
    await runExpire(h.factory("alice", { env: later }).f, {});
    expect(repo.variable("DEPLOY_FREEZE_BYPASS", "production")).toBe("false");
  });

  it("creates a flag that did not exist, and revert deletes it", async () => {
    const repo = h.repo();
    repo.environment("staging");
    const result = await setFlag("alice", "DEPLOY_FREEZE_BYPASS", "staging", "true");
    expect(repo.variable("DEPLOY_FREEZE_BYPASS", "staging")).toBe("true");
    expect(result.record.before).toEqual({ value: null });
    await runRevert(h.factory("alice").f, { id: result.id, reason: "freeze is over" });
    expect(repo.environments.get("staging")?.has("DEPLOY_FREEZE_BYPASS")).toBe(false);
  });

  it("unsetting a repo-level flag deletes the variable and ends the override that set it", async () => {
    const repo = h.repo();
    const set = await setFlag("alice", "VERBOSE_DEPLOY", null, "1");
    expect(repo.variable("VERBOSE_DEPLOY")).toBe("1");
    const unset = await setFlag("alice", "VERBOSE_DEPLOY", null, null);
    expect(repo.variable("VERBOSE_DEPLOY")).toBeUndefined();
    expect(h.fake.lines().at(-1)).toBe("DELETE /repos/acme/shop/actions/variables/VERBOSE_DEPLOY");
    expect(unset.record.before).toEqual({ value: "1" });
    expect(unset.result.after).toEqual({ value: null });
    // An unset ends the override: nothing stays in force to revert.
    await expect(runRevert(h.factory("alice").f, { id: set.id, reason: "x" })).rejects.toThrow(
      /no longer in force/,
    );
  });

  it("a missing environment is a clear 404, and the failed result is recorded", async () => {
    await expect(setFlag("alice", "DEPLOY_FREEZE_BYPASS", "production", "true")).rejects.toMatchObject({
      exitCode: 1,
      message: "GitHub: environment production not found on acme/shop, or the token cannot see it (404)",
    });
    expect(await h.auditText()).toContain('"outcome":"failed"');
  });

  it("a role below maintain is refused by policy before any write", async () => {
    h.repo().environment("production");
    h.repo().setRole("bob", "write");
    await expect(setFlag("bob", "DEPLOY_FREEZE_BYPASS", "production", "true")).rejects.toMatchObject({
      exitCode: 3,
    });
    expect(h.fake.requests.filter((r) => r.method !== "GET")).toEqual([]);
  });
});
