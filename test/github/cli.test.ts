/** The built CLI against the fake GitHub, as users and pipelines run it. */
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeGitHub } from "../fakes/github/server.js";
import type { FakeRepo } from "../fakes/github/state.js";
import { makeWorld, repoRoot, type World } from "../helpers/world.js";
import { githubPolicy, tokens } from "./harness.js";

describe("optout on GitHub, end to end", () => {
  let fake: FakeGitHub;
  let w: World;
  let repo: FakeRepo;
  const reason = "linter crashes on node 22, INC-4411";
  const env = (person: string, extra: Record<string, string> = {}) => ({
    GITHUB_API_URL: fake.url,
    OPTOUT_GITHUB_TOKEN: tokens[person]!,
    ...extra,
  });

  beforeAll(async () => {
    fake = await FakeGitHub.start();
    w = await makeWorld({ people: ["alice", "bob"], policy: githubPolicy() });
    for (const [login, token] of Object.entries(tokens)) fake.world.addUser(login, token);
    repo = fake.world.addRepo("acme/shop");
    repo.setRole("alice", "admin");
    repo.setRole("bob", "read");
  });
  afterAll(async () => {
    await fake.close();
    await w.cleanup();
  });
  afterEach(() => {
    expect(fake.violations).toEqual([]);
    fake.requests = [];
  });

  it("skip by status: four requests, the status posted, the request log on --verbose without the token", async () => {
    const sha = repo.branches.get("main")!;
    const r = await w.run(
      "alice",
      ["--verbose", "skip", "lint", "--ref", "main", "--reason", reason, "--json"],
      {
        env: env("alice"),
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ type: "skip", status: "applied" });
    expect(fake.lines()).toEqual([
      "GET /user",
      "GET /repos/acme/shop/collaborators/alice/permission",
      "GET /repos/acme/shop/commits/main/status",
      `POST /repos/acme/shop/statuses/${sha}`,
    ]);
    expect(repo.latest(sha, "ci/lint")?.state).toBe("success");
    expect(r.stderr).toMatch(/POST \/repos\/acme\/shop\/statuses\/[0-9a-f]{40} 201 \d+ms/);
    expect(r.stdout + r.stderr).not.toContain(tokens.alice);
  });

  it("a 403 whose body echoes the token exits 3 and prints no token", async () => {
    fake.fail("POST", "/repos/acme/shop/statuses/*", {
      status: 403,
      body: { message: `Resource not accessible: credential ${tokens.alice} lacks repo:status` },
    });
    const r = await w.run("alice", ["--verbose", "skip", "lint", "--ref", "main", "--reason", reason], {
      env: env("alice"),
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      "GitHub refused: token lacks permission to write commit statuses on acme/shop (403)",
    );
    expect(r.stdout + r.stderr).not.toContain(tokens.alice);
  });

  it("guard reads the ledger only: no GitHub request, no octokit", async () => {
    const hook = join(repoRoot, "test", "fixtures", "trace-imports.mjs");
    const r = await w.run("bob", ["guard", "docs"], {
      env: env("bob", { NODE_OPTIONS: `--import ${hook}`, OPTOUT_TRACE_IMPORTS: "1" }),
    });
    expect([r.code, r.stdout.trim()]).toEqual([1, "run"]);
    expect(r.stderr).not.toContain("@octokit");
    expect(fake.requests).toEqual([]);
  });
});
