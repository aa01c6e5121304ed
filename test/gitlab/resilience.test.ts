/**
 * GitLab misbehaving: 429 with Retry-After (honoured, or refused when too long), 5xx and hangs
 * retried within the budget, a dead host, and tokens planted in error bodies that must never
 * reach a message, a log line or a ledger record.
 */
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { ForgeError, UnknownOutcomeError } from "../../src/errors.js";
import { git } from "../helpers/world.js";
import { everythingShown, sha1, useGitLabWorld } from "./harness.js";

describe("GitLab failures", () => {
  const g = useGitLabWorld();

  it("429 with Retry-After: waits as long as asked, says so, then goes on", async () => {
    g.gl.inject({ path: /^\/api\/graphql$/, status: 429, retryAfter: 1 });
    const s = await g.as("alice");
    const started = Date.now();
    expect((await s.provider.identity()).login).toBe("alice");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(g.gl.requests.map((q) => q.status)).toEqual([429, 200]);
    expect(s.progress).toEqual(["GitLab answered HTTP 429; retrying in 1 s"]);
  });

  it("429 asking for longer than we wait: fails at once, clearly", async () => {
    g.gl.inject({ path: /^\/api\/graphql$/, status: 429, retryAfter: 120 });
    const s = await g.as("alice");
    const started = Date.now();
    const e = await s.provider.identity().catch((x: unknown) => x);
    // Retry-After asked for 120 s: anything under a minute proves it did not wait.
    expect(Date.now() - started).toBeLessThan(60_000);
    expect((e as ForgeError).message).toBe(
      "GitLab rate limit: could not read who the token belongs to and their role (POST /api/graphql) on acme/shop (429; 1 attempt)",
    );
    // The hint uses the wait GitLab asked for, not a guess; a rate limit is a failure (exit 1).
    expect((e as ForgeError).hint).toMatch(
      /^GitLab asked to wait 120 s, longer than optout waits in an emergency: try again after \d\d:\d\d UTC$/,
    );
    expect((e as ForgeError).exitCode).toBe(1);
    expect(g.gl.requests).toHaveLength(1);
  });

  it("502 twice, then an answer: retried", async () => {
    g.gl.setVariable("acme/shop", "MAINTENANCE", "off");
    g.gl.inject({ method: "GET", path: /variables/, status: 502, times: 2 });
    const r = await (await g.as("bob")).flag("MAINTENANCE", "on");
    expect(r.status).toBe("applied");
    expect(
      g.gl.requests.filter((q) => q.path.includes("variables")).map((q) => `${q.method} ${q.status}`),
    ).toEqual(["GET 502", "GET 502", "GET 200", "PUT 200"]);
  });

  it("5xx that does not stop: gives up after the attempts the policy allows", async () => {
    g.gl.inject({ method: "GET", path: /variables/, status: 503, times: 100 });
    const e = await (await g.as("bob")).flag("MAINTENANCE", "off").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ForgeError);
    // The message says what the retries really were.
    expect((e as ForgeError).message).toMatch(
      /^GitLab failed to read CI\/CD variable MAINTENANCE on acme\/shop \(503; 4 attempts over \d+\.\d s\): 503 fault injected$/,
    );
    expect((e as ForgeError).exitCode).toBe(1);
    expect(g.gl.requests.filter((q) => q.path.includes("variables"))).toHaveLength(4); // maxAttempts
  });

  it("a request that hangs times out and is tried again", async () => {
    g.gl.inject({ path: /^\/api\/graphql$/, hang: true });
    const s = await g.as("alice", { requestTimeoutMs: 300 });
    expect((await s.provider.identity()).login).toBe("alice");
    expect(s.log[0]).toMatch(/^POST \/api\/graphql failed after \d+ms \(no answer within 300 ms\)$/);
    expect(s.log[1]).toMatch(/^POST \/api\/graphql 200 \d+ms$/);
  });

  it("a host that refuses connections: 'GitLab did not answer', after the retries", async () => {
    const s = await g.as("alice", {
      env: { CI_SERVER_URL: `http://127.0.0.1:${await closedPort()}` },
      retry: { budgetMs: 2_000, maxAttempts: 2, maxRetryAfterMs: 1_000 },
    });
    const e = await s.provider.identity().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ForgeError);
    expect((e as ForgeError).message).toMatch(
      /^GitLab did not answer \(read who the token belongs to and their role \(POST \/api\/graphql\) on acme\/shop; 2 attempts over \d+\.\d s\): ECONNREFUSED$/,
    );
    expect(s.log.filter((l) => l.includes("ECONNREFUSED"))).toHaveLength(2);
  });

  it("a token planted in GitLab's error bodies never reaches a message, log line or record", async () => {
    const token = g.gl.user("alice").token;
    g.gl.inject({
      method: "POST",
      path: /statuses/,
      status: 500,
      body: {
        message: `upstream said PRIVATE-TOKEN: ${token}; job-token=${token}; url ?private_token=${token}`,
      },
      times: 10,
    });
    const s = await g.as("alice");
    const e = await s.skip("lint", { sha: sha1 }).catch((x: unknown) => x);
    // A 5xx on a write: GitLab may have done it, so the outcome is unknown, not failed.
    expect(e).toBeInstanceOf(UnknownOutcomeError);
    expect((e as ForgeError).message).toMatch(
      /^GitLab failed to set commit status ci\/lint on acme\/shop \(500; \d attempts over \d+\.\d s\): upstream said PRIVATE-TOKEN: \*\*\*; job-token=\*\*\*; url \?private_token=\*\*\*; GitLab may have done it anyway$/,
    );
    const ledger = await git(g.w.work, "log", "-p", "origin/optout/audit");
    expect(ledger).toContain("upstream said PRIVATE-TOKEN: ***"); // the failed result record, scrubbed
    expect(ledger).not.toContain(token);
    expect(everythingShown(s, [e])).not.toContain(token);
    expect(everythingShown(s)).not.toMatch(/glpat-/);
  });

  it("an HTML error page is reduced to its title, in the message and in the record", async () => {
    g.gl.inject({
      method: "GET",
      path: /variables/,
      status: 502,
      html: "<html><head><title>GitLab is not responding (502)</title></head><body><script>x()</script></body></html>",
      times: 10,
    });
    const s = await g.as("bob");
    const e = await s.flag("MAINTENANCE", "off").catch((x: unknown) => x);
    expect((e as ForgeError).message).toContain('an HTML page titled "GitLab is not responding (502)"');
    expect(everythingShown(s, [e])).not.toMatch(/<html|<script|<title/);
  });

  it("every request is logged as 'METHOD path status ms', never with a header or token", async () => {
    const s = await g.as("bob");
    await s.flag("MAINTENANCE", "on");
    expect(s.log.length).toBeGreaterThan(2);
    for (const line of s.log) expect(line).toMatch(/^(GET|POST|PUT|DELETE) \/\S+ \d{3} \d+ms$/);
    expect(s.log).toContainEqual(
      expect.stringMatching(
        /^GET \/projects\/acme%2Fshop\/variables\/MAINTENANCE\?filter\[environment_scope\]=\* 200 \d+ms$/,
      ),
    );
    expect(s.log.join("\n")).not.toMatch(/token|glpat/i);
  });
});

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
