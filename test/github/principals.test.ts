/** Who may override on GitHub: users, repository roles and team memberships, as the policy names them. */
import { describe, expect, it } from "vitest";
import { runSkip } from "../../src/commands/skip/run.js";
import { roleCovers } from "../../src/providers/github/principals.js";
import { tokens, useHarness } from "./harness.js";

const h = useHarness();

const reason = "flaky check blocks the hotfix, INC-7";

describe("identity", () => {
  it("comes from GET /user, with the numeric id as a string", async () => {
    const { f } = h.factory("alice");
    const p = await f.provider();
    const me = await p.identity();
    expect(me).toEqual({
      provider: "github",
      login: "alice",
      id: String(h.fake.world.users.get(tokens.alice!)!.id),
    });
    // Cached for the run.
    await p.identity();
    expect(h.fake.count("GET", "/user")).toBe(1);
  });
});

describe("role principals", () => {
  it("allows a role at or above the one required (admin ≥ write)", async () => {
    const { f } = h.factory("alice");
    await runSkip(f, { stage: "lint", ref: "main", reason });
    expect(h.repo().latest(h.repo().branches.get("main")!, "ci/lint")?.state).toBe("success");
  });

  it("denies a lower role (read < write), records the denial and writes nothing on GitHub", async () => {
    const { f } = h.factory("bob");
    await expect(runSkip(f, { stage: "lint", ref: "main", reason })).rejects.toMatchObject({
      exitCode: 3,
      message: "bob may not skip lint",
    });
    expect(h.fake.count("POST")).toBe(0);
    expect(await h.auditText()).toContain('"type":"deny"');
  });

  it("a collaborator unknown to the repository (404) has no role", async () => {
    const { f } = h.factory("carol");
    const p = await f.provider();
    expect(
      await p.hasPrincipal({ provider: "github", login: "carol", id: "1" }, { kind: "role", role: "read" }),
    ).toBe(false);
  });

  it("answers from the cache the second time", async () => {
    const { f } = h.factory("alice");
    const p = await f.provider();
    const me = await p.identity();
    for (let i = 0; i < 3; i++)
      expect(await p.hasPrincipal(me, { kind: "role", role: "maintain" })).toBe(true);
    expect(h.fake.count("GET", "/repos/acme/shop/collaborators/")).toBe(1);
  });

  it("orders read < triage < write < maintain < admin; custom roles match by name or by base permission", () => {
    expect(roleCovers("write", "maintain", "write")).toBe(true);
    expect(roleCovers("maintain", "write", "write")).toBe(false);
    expect(roleCovers("triage", "read", "read")).toBe(false);
    expect(roleCovers("admin", "admin", "admin")).toBe(true);
    // The user's custom role counts as its base permission, never more.
    expect(roleCovers("write", "deployer", "write")).toBe(true);
    expect(roleCovers("maintain", "deployer", "write")).toBe(false);
    // A custom role in the policy: that role only.
    expect(roleCovers("deployer", "deployer", "write")).toBe(true);
    expect(roleCovers("deployer", "admin", "admin")).toBe(false);
  });

  it("a custom role on GitHub counts as its base permission", async () => {
    h.repo().setRole("bob", "deployer:write");
    const { f } = h.factory("bob");
    const p = await f.provider();
    const me = await p.identity();
    expect(await p.hasPrincipal(me, { kind: "role", role: "write" })).toBe(true);
    expect(await p.hasPrincipal(me, { kind: "role", role: "maintain" })).toBe(false);
  });
});

describe("team principals", () => {
  it("an active member of the team is allowed (e2e allows the oncall group)", async () => {
    h.repo().setRole("carol", "write");
    const { f } = h.factory("carol");
    await runSkip(f, { stage: "e2e", ref: "main", reason });
    expect(h.fake.lines()).toContain("GET /orgs/acme/teams/oncall/memberships/carol");
    expect(h.repo().latest(h.repo().branches.get("main")!, "ci/e2e")?.state).toBe("success");
  });

  it("404 from the membership of a team that exists: not a member (one more request says the team exists)", async () => {
    const { f } = h.factory("bob");
    await expect(runSkip(f, { stage: "e2e", ref: "main", reason })).rejects.toMatchObject({
      exitCode: 3,
      message: "bob may not skip e2e",
    });
    expect(h.fake.requests.find((r) => r.path === "/orgs/acme/teams/oncall/memberships/bob")?.status).toBe(
      404,
    );
    expect(h.fake.lines()).toContain("GET /orgs/acme/teams/oncall");
  });

  it("a team that does not exist is an error naming it, not a silent deny", async () => {
    const p = await h.factory("bob").f.provider();
    const me = await p.identity();
    await expect(p.hasPrincipal(me, { kind: "team", org: "acme", slug: "on-call" })).rejects.toMatchObject({
      exitCode: 3,
      message: "cannot check team:acme/on-call: GitHub does not show this team to the token (404)",
    });
  });

  it("a pending invitation is not membership", async () => {
    h.fake.world.addTeamMember("acme/oncall", "bob", "pending");
    const { f } = h.factory("bob");
    const p = await f.provider();
    const me = await p.identity();
    expect(await p.hasPrincipal(me, { kind: "team", org: "acme", slug: "oncall" })).toBe(false);
  });

  it("user principals are case-insensitive and need no request", async () => {
    const { f } = h.factory("alice");
    const p = await f.provider();
    const me = { provider: "github", login: "Alice", id: "1" };
    expect(await p.hasPrincipal(me, { kind: "user", login: "alice" })).toBe(true);
    expect(h.fake.requests).toHaveLength(0);
  });
});
