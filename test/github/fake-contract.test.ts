/**
 * The fake holds requests to GitHub's published contract: these show that what the real API
 * would reject (or silently misread) becomes a violation that fails the test that made it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FakeGitHub } from "../fakes/github/server.js";

let fake: FakeGitHub;
const token = `ghp_${"f".repeat(36)}`;
beforeAll(async () => {
  fake = await FakeGitHub.start();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  fake.world.addUser("alice", token);
  fake.world.addRepo("acme/shop").setRole("alice", "admin");
});

function call(method: string, path: string, body?: unknown) {
  return fetch(`${fake.url}${path}`, {
    method,
    headers: { authorization: `token ${token}`, accept: "application/vnd.github+json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe("the fake GitHub", () => {
  it("accepts a request the contract allows, and answers with a body the contract allows", async () => {
    const r = await call("POST", "/repos/acme/shop/actions/variables", { name: "X", value: "1" });
    expect(r.status).toBe(201);
    const g = await call("GET", "/repos/acme/shop/actions/variables/X");
    expect(await g.json()).toMatchObject({ name: "X", value: "1", created_at: expect.any(String) });
    expect(fake.violations).toEqual([]);
  });

  it("an operation GitHub does not have (PUT on a variable) is a violation", async () => {
    expect(
      (await call("PUT", "/repos/acme/shop/actions/variables/X", { name: "X", value: "1" })).status,
    ).toBe(404);
    expect(fake.violations).toEqual([
      "PUT /repos/acme/shop/actions/variables/X: no such operation in GitHub's API",
    ]);
  });

  it("a body the schema rejects is a violation", async () => {
    const sha = fake.world.repos.get("acme/shop")!.branches.get("main");
    expect(
      (await call("POST", `/repos/acme/shop/statuses/${sha}`, { state: "green", context: "ci/lint" })).status,
    ).toBe(422);
    expect(fake.violations).toHaveLength(1);
    expect(fake.violations[0]).toMatch(
      /repos\/create-commit-status\): body: \/state must be equal to one of the allowed values/,
    );
  });

  it("a missing required field, or a body where none is taken, is a violation", async () => {
    await call("POST", "/repos/acme/shop/actions/variables", { name: "X" });
    await call("DELETE", "/repos/acme/shop/actions/variables/X", { name: "X" });
    expect(fake.violations).toEqual([
      expect.stringMatching(/actions\/create-repo-variable\): body: \/ must have required property 'value'/),
      expect.stringMatching(/actions\/delete-repo-variable\): this operation takes no body/),
    ]);
  });

  it("an undeclared query parameter (GitHub would ignore it) is a violation", async () => {
    await call("GET", "/repos/acme/shop/deployments?env=production");
    expect(fake.violations).toEqual([
      expect.stringMatching(/query parameter "env" is not a parameter of repos\/list-deployments/),
    ]);
  });

  it("a query enum value out of range is a violation", async () => {
    fake.world.repos.get("acme/shop")!.addWorkflow("deploy.yml");
    await call("GET", "/repos/acme/shop/actions/workflows/deploy.yml/runs?status=done");
    expect(fake.violations).toEqual([expect.stringMatching(/query parameter status must be one of/)]);
  });

  it("a query value of the wrong format (the search syntax where a date-time is declared) is a violation", async () => {
    fake.world.repos.get("acme/shop")!.addWorkflow("deploy.yml");
    await call(
      "GET",
      "/repos/acme/shop/actions/workflows/deploy.yml/runs?created=%3E%3D2026-01-01T00:00:00Z",
    );
    await call("GET", "/repos/acme/shop/actions/workflows/deploy.yml/runs?per_page=many");
    expect(fake.violations).toEqual([
      expect.stringMatching(/query parameter created=>=2026-01-01T00:00:00Z: must match format "date-time"/),
      expect.stringMatching(/query parameter per_page=many: must be integer/),
    ]);
  });

  it("the sha media type comes without a charset, as from a strict server", async () => {
    const r = await fetch(`${fake.url}/repos/acme/shop/commits/main`, {
      headers: { authorization: `token ${token}`, accept: "application/vnd.github.sha" },
    });
    expect(r.headers.get("content-type")).toBe("application/vnd.github.sha");
    expect(await r.text()).toMatch(/^[0-9a-f]{40}$/);
  });

  it("a bad token is 401, like GitHub", async () => {
    const r = await fetch(`${fake.url}/user`, { headers: { authorization: "token nope" } });
    expect(r.status).toBe(401);
    expect(await r.json()).toMatchObject({ message: "Bad credentials" });
    expect(fake.violations).toEqual([]);
  });
});
