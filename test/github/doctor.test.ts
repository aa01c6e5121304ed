/** `optout doctor` on GitHub, via the built CLI against the fake: the token's source and branch protection. */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FakeGitHub } from "../fakes/github/server.js";
import type { FakeRepo } from "../fakes/github/state.js";
import { makeWorld, type World } from "../helpers/world.js";
import { githubPolicy, tokens } from "./harness.js";

describe("optout doctor on GitHub", () => {
  let fake: FakeGitHub;
  let w: World;
  let repo: FakeRepo;
  const run = (person: string, args: string[] = ["doctor"]) =>
    w.run(person, args, { env: { GITHUB_API_URL: fake.url, OPTOUT_GITHUB_TOKEN: tokens[person]! } });

  beforeAll(async () => {
    fake = await FakeGitHub.start();
    w = await makeWorld({ people: ["alice", "bob"], policy: githubPolicy() });
  });
  afterAll(async () => {
    await fake.close();
    await w.cleanup();
  });
  beforeEach(() => {
    fake.reset();
    for (const [login, token] of Object.entries(tokens)) fake.world.addUser(login, token);
    repo = fake.world.addRepo("acme/shop");
    repo.setRole("alice", "admin");
    repo.setRole("bob", "read");
  });
  afterEach(() => {
    expect(fake.violations).toEqual([]);
  });

  it("an unprotected audit branch fails (exit 1) with the ruleset hint; the token's source, never the token", async () => {
    const r = await run("alice");
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain("✓ token: GitHub token from OPTOUT_GITHUB_TOKEN");
    expect(r.stdout).toMatch(
      /✗ audit branch protection \(optout\/audit\): optout\/audit is not protected against force pushes on GitHub/,
    );
    expect(r.stdout).toContain(
      'GitHub: Settings → Rules → Rulesets → New branch ruleset targeting optout/audit: enable "Restrict deletions" and "Block force pushes"',
    );
    expect(r.stdout).toMatch(/! default branch protection \(main\): main is not protected/);
    expect(r.stdout + r.stderr).not.toContain(tokens.alice);
    expect(fake.lines()).toEqual(
      expect.arrayContaining([
        "GET /repos/acme/shop/rules/branches/optout%2Faudit",
        "GET /repos/acme/shop/branches/optout%2Faudit/protection",
        "GET /repos/acme/shop/rules/branches/main",
      ]),
    );
  });

  it("a ruleset requiring a status stage's check from one GitHub App: says to use guard", async () => {
    repo.rulesets.set("main", [
      "non_fast_forward",
      {
        type: "required_status_checks",
        parameters: {
          strict_required_status_checks_policy: false,
          required_status_checks: [{ context: "ci/lint", integration_id: 15368 }, { context: "ci/e2e" }],
        },
      },
    ]);
    const r = await run("alice", ["doctor", "--json"]);
    const checks = JSON.parse(r.stdout).checks as {
      name: string;
      status: string;
      detail: string;
      hint?: string;
    }[];
    expect(checks.find((c) => c.name === "status stages")).toEqual({
      name: "status stages",
      status: "warn",
      detail:
        "ruleset on main requires ci/lint from GitHub App 15368: the commit status optout posts for stage lint cannot satisfy it",
      hint: 'use mechanism "guard" for stages.lint (the job runs `optout guard <stage>`)',
    });
    // The default branch's rules are read once, for its protection and for this check.
    expect(fake.lines().filter((l) => l === "GET /repos/acme/shop/rules/branches/main")).toHaveLength(1);
  });

  it("a ruleset blocking non_fast_forward and deletion on both branches: ok, exit 0", async () => {
    repo.rulesets.set("optout/audit", ["non_fast_forward", "deletion"]);
    repo.rulesets.set("main", ["non_fast_forward", "deletion", "pull_request"]);
    const r = await run("alice");
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(
      "✓ audit branch protection (optout/audit): force pushes blocked: ruleset blocks force pushes and deletion",
    );
    expect(r.stdout).toContain("✓ default branch protection (main): force pushes blocked");
  });

  it("classic branch protection counts; allowing force pushes there does not", async () => {
    repo.protection.set("optout/audit", { allowForcePushes: false, allowDeletions: false });
    repo.protection.set("main", { allowForcePushes: true, allowDeletions: false });
    const r = await run("alice", ["doctor", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const checks = (JSON.parse(r.stdout) as { checks: { name: string; status: string; detail: string }[] })
      .checks;
    expect(checks.find((c) => c.name === "audit branch protection (optout/audit)")).toMatchObject({
      status: "ok",
      detail: expect.stringContaining("classic protection blocks force pushes, blocks deletion"),
    });
    expect(checks.find((c) => c.name === "default branch protection (main)")).toMatchObject({
      status: "warn",
      detail: expect.stringContaining("classic protection allows force pushes"),
    });
  });

  it("a token that may not read classic protection (403): cannot tell, unless a ruleset already blocks", async () => {
    repo.rulesets.set("main", ["non_fast_forward", "deletion"]);
    const r = await run("bob", ["doctor", "--json"]);
    const checks = (JSON.parse(r.stdout) as { checks: { name: string; status: string; detail: string }[] })
      .checks;
    expect(checks.find((c) => c.name === "audit branch protection (optout/audit)")).toMatchObject({
      status: "warn",
      detail: expect.stringContaining("cannot tell whether GitHub protects optout/audit"),
    });
    expect(checks.find((c) => c.name === "default branch protection (main)")).toMatchObject({
      status: "ok",
    });
    expect(r.code).toBe(0);
  });
});
