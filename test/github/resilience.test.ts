/**
 * When GitHub misbehaves: rate limits with Retry-After, 5xx, hangs, refusals — retried within the
 * one bounded policy, or mapped to one clear ForgeError. Tokens never reach a message or a record.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runSkip } from "../../src/commands/skip/run.js";
import { ForgeError } from "../../src/errors.js";
import type { FakeRepo } from "../fakes/github/state.js";
import { type Harness, makeHarness, tokens } from "./harness.js";

let h: Harness;
let repo: FakeRepo;
let sha: string;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(() => h.close());
beforeEach(() => {
  repo = h.reset();
  sha = repo.branches.get("main")!;
});
afterEach(() => {
  expect(h.fake.violations).toEqual([]);
});

const reason = "linter crashes on node 22, INC-4411";

describe("retries", () => {
  it("honours Retry-After on a 429, says so, then succeeds", async () => {
    h.fake.fail("POST", "/repos/acme/shop/statuses/*", { status: 429, retryAfter: 1 });
    const { f, out } = h.factory("alice");
    const started = Date.now();
    await runSkip(f, { stage: "lint", ref: "main", reason });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(h.fake.requests.filter((r) => r.method === "POST").map((r) => r.status)).toEqual([429, 201]);
    expect(out.progress).toContainEqual(
      expect.stringMatching(
        /^GitHub: HTTP 429 on POST \/repos\/acme\/shop\/statuses\/[0-9a-f]{40}; retrying in 1 s$/,
      ),
    );
    expect(repo.latest(sha, "ci/lint")?.state).toBe("success");
  });

  it("fails at once when Retry-After is longer than an emergency waits", async () => {
    h.fake.fail("GET", "/user", { status: 429, retryAfter: 3600 });
    const p = await h.factory("alice").f.provider();
    const err = await p.identity().catch((e) => e);
    expect(err).toBeInstanceOf(ForgeError);
    expect(err.message).toMatch(
      /^GitHub rate limit reached on GET \/user \(429; 1 attempt\); it resets at \d\d:\d\d UTC, longer than optout waits in an emergency$/,
    );
    expect(err.exitCode).toBe(1);
    expect(h.fake.count("GET", "/user")).toBe(1);
  });

  it("a primary rate limit (403, no requests left) says when it resets", async () => {
    const reset = Math.floor(Date.now() / 1000) + 1800;
    h.fake.fail("GET", "/user", {
      status: 403,
      body: { message: "API rate limit exceeded for user ID 1." },
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) },
    });
    const err = await (await h.factory("alice").f.provider()).identity().catch((e) => e);
    const hhmm = new Date(reset * 1000).toISOString().slice(11, 16);
    expect(err.message).toBe(
      `GitHub rate limit reached on GET /user (403; 1 attempt); it resets at ${hhmm} UTC, longer than optout waits in an emergency`,
    );
    // The same condition as a 429: a failure (exit 1), not a missing permission (exit 3).
    expect(err.exitCode).toBe(1);
  });

  it("an HTML error page from a proxy is reduced to its title", async () => {
    h.fake.fail("GET", "/user", {
      status: 404,
      body: undefined,
      headers: {},
      html: "<!DOCTYPE html><html><head><title>Page not found &amp; gone</title><style>x{}</style></head><body><h1>404</h1></body></html>",
    });
    const err = await (await h.factory("alice").f.provider()).identity().catch((e) => e);
    const text = `${err.message} ${err.hint}`;
    expect(text).toContain('an HTML page titled "Page not found & gone"');
    expect(text).not.toMatch(/<|DOCTYPE|style/);
  });

  it("retries a 502, then succeeds", async () => {
    h.fake.fail("GET", `/repos/acme/shop/commits/*/status`, { status: 502 });
    const { f } = h.factory("alice");
    await runSkip(f, { stage: "lint", ref: "main", reason });
    expect(h.fake.requests.filter((r) => r.path.endsWith("/status")).map((r) => r.status)).toEqual([
      502, 200,
    ]);
    expect(repo.latest(sha, "ci/lint")?.state).toBe("success");
  });

  it("gives up on a persistent 5xx after the policy's attempts, with a clear message", async () => {
    h.fake.fail("GET", "/user", { status: 503, times: 10 });
    const p = await h.factory("alice", { retry: { budgetMs: 5_000, maxAttempts: 3 } }).f.provider();
    await expect(p.identity()).rejects.toMatchObject({
      exitCode: 1,
      message: expect.stringMatching(
        /^GitHub failed: GET \/user answered 503 \(3 attempts over \d+\.\d s\)$/,
      ),
    });
    expect(h.fake.count("GET", "/user")).toBe(3);
  });

  it("a hang hits the per-request timeout and is retried", async () => {
    h.fake.fail("GET", "/user", { delayMs: 5_000 });
    const { f, out } = h.factory("alice", { env: { OPTOUT_HTTP_TIMEOUT_MS: "300" } });
    const me = await (await f.provider()).identity();
    expect(me.login).toBe("alice");
    expect(h.fake.count("GET", "/user")).toBe(2);
    expect(out.log[0]).toMatch(/^GET \/user timeout \d+ms$/);
  });

  it("a server that never answers ends in a timeout error within the budget", async () => {
    h.fake.fail("GET", "/user", { delayMs: 10_000, times: 10 });
    const { f } = h.factory("alice", {
      env: { OPTOUT_HTTP_TIMEOUT_MS: "200" },
      retry: { budgetMs: 1_500, maxAttempts: 5 },
    });
    const err = await (await f.provider()).identity().catch((e) => e);
    // Each request is cut at 200 ms (the fake would take 10 s) and no more attempts are made
    // than allowed: counted, not timed.
    expect(h.fake.count("GET", "/user")).toBeGreaterThanOrEqual(1);
    expect(h.fake.count("GET", "/user")).toBeLessThanOrEqual(5);
    expect(err).toMatchObject({ exitCode: 1 });
    expect(err.message).toMatch(
      /^GitHub did not answer GET \/user within 200 ms \((1 attempt|\d attempts over \d+\.\d s)\)$/,
    );
  });
});

describe("refusals", () => {
  it("401 names where the token came from", async () => {
    const { f } = h.factory("alice", {
      env: { OPTOUT_GITHUB_TOKEN: "", GH_TOKEN: "ghp_revokedrevokedrevokedrevoked00" },
    });
    const err = await (await f.provider()).identity().catch((e) => e);
    expect(err).toMatchObject({
      exitCode: 3,
      message: "GitHub: the token was rejected (401)",
      hint: "it came from GH_TOKEN; check it has not expired or been revoked",
    });
  });

  it("404 on the repository: not found or not visible to the token", async () => {
    // carol is on call (team) but has no access to the private repository.
    const { f } = h.factory("carol");
    await expect(runSkip(f, { stage: "e2e", ref: "main", reason })).rejects.toMatchObject({
      exitCode: 1,
      message: "GitHub: repository acme/shop not found or the token cannot see it (404)",
    });
  });

  it("a token echoed in an error body never reaches a message, the output or the audit branch", async () => {
    // A token that does not look like one: only its value can be scrubbed.
    const secret = "s3cret-value-without-a-known-shape-42";
    h.fake.world.addUser("alice", secret);
    h.fake.fail("POST", "/repos/acme/shop/statuses/*", {
      status: 403,
      body: {
        message: `Resource not accessible by personal access token: credential ${secret} lacks repo:status (Authorization: token ${secret}; also ${tokens.bob})`,
        documentation_url: "https://docs.github.com/rest",
      },
    });
    const { f, out } = h.factory("alice", { env: { OPTOUT_GITHUB_TOKEN: secret } });
    const err = await runSkip(f, { stage: "lint", ref: "main", reason }).catch((e) => e);
    expect(err).toMatchObject({
      exitCode: 3,
      message: "GitHub refused: token lacks permission to write commit statuses on acme/shop (403)",
    });
    expect(err.hint).toContain("Resource not accessible by personal access token");
    expect(err.cause).toBeUndefined();
    const everything = [
      err.message,
      err.hint,
      String(err.stack),
      out.stdout,
      out.stderr,
      ...out.log,
      ...out.progress,
      ...out.warnings,
      await h.auditText(),
    ].join("\n");
    expect(everything).toContain('"outcome":"failed"');
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(tokens.bob);
    // The request did carry it: the scrub, not the absence of the token, keeps it out.
    expect(h.fake.requests.at(-1)?.authorization).toBe(`token ${secret}`);
  });
});
