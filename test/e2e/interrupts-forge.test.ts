/**
 * Ctrl-C during a forge call, with the built CLI against the GitHub fake: SIGINT while GitHub is
 * holding the request that changes the world. optout exits 130 with a result that says the
 * outcome is unknown, and `optout sync` settles it by reading GitHub back. The test waits on the
 * request reaching the fake, never on time.
 */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeGitHub } from "../fakes/github/server.js";
import type { FakeRepo } from "../fakes/github/state.js";
import { githubPolicy, tokens } from "../github/harness.js";
import { cliPath, makeWorld, type World } from "../helpers/world.js";

const reason = "linter crashes on node 22, INC-4411";

let fake: FakeGitHub;
let w: World;
let repo: FakeRepo;
const env = (person: string) => ({
  ...w.env(person),
  GITHUB_API_URL: fake.url,
  OPTOUT_GITHUB_TOKEN: tokens[person]!,
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

async function until(what: () => boolean, label: string): Promise<void> {
  // The bound only turns a hang into a readable failure.
  for (let i = 0; i < 900 && !what(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!what()) throw new Error(`never saw ${label}`);
}

describe("Ctrl-C during a forge call", () => {
  it("exits 130 with an unknown result, and sync settles it from what GitHub says", async () => {
    const sha = repo.branches.get("main")!;
    // GitHub holds the status post (far longer than this test): only Ctrl-C ends the wait.
    fake.fail("POST", "/repos/acme/shop/statuses/*", { delayMs: 600_000 });
    const child = spawn(process.execPath, [cliPath, "skip", "lint", "--ref", "main", "--reason", reason], {
      cwd: w.work,
      env: env("alice"),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("close", (c) => r(c)));
    await until(() => fake.count("POST", "/repos/acme/shop/statuses/") > 0, "the status post");
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/^optout: interrupted \(Ctrl-C\) while skip lint/m);
    expect(stderr).not.toMatch(/unexpected error/);
    expect(repo.latest(sha, "ci/lint")).toBeUndefined();

    const log = JSON.parse(
      (await w.run("bob", ["log", "--json", "--limit", "2"], { env: env("bob") })).stdout,
    );
    const [result, intent] = log.records;
    expect(intent).toMatchObject({ type: "skip", outcome: "intent" });
    expect(result).toMatchObject({
      type: "result",
      outcome: "unknown",
      links: { intent: intent.id },
      error: expect.stringMatching(/interrupted/),
    });
    const status = JSON.parse((await w.run("bob", ["status", "--json"], { env: env("bob") })).stdout);
    expect(status.unfinished).toMatchObject([{ id: intent.id, status: "unknown" }]);

    // GitHub never took the status: sync reads that back and records it as not applied.
    const sync = await w.run("alice", ["sync", "--json"], { env: env("alice") });
    expect(sync.code, sync.stderr).toBe(0);
    expect(JSON.parse(sync.stdout).settled).toMatchObject([{ id: intent.id, outcome: "failed" }]);
    const after = JSON.parse((await w.run("bob", ["status", "--json"], { env: env("bob") })).stdout);
    expect(after.unfinished).toEqual([]);
    expect(after.active).toEqual([]);
  });
});
