/**
 * Where the token comes from (docs/commands.md, Environment: OPTOUT_GITHUB_TOKEN > GH_TOKEN > GITHUB_TOKEN > `gh auth
 * token`), and that octokit loads only when a request is made.
 */
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/world.js";
import { type Harness, makeHarness, tokens } from "./harness.js";

const exec = promisify(execFile);
let h: Harness;
let bin: string;
beforeAll(async () => {
  h = await makeHarness();
  bin = await mkdtemp(join(tmpdir(), "optout-gh-"));
});
afterAll(async () => {
  await h.close();
  await rm(bin, { recursive: true, force: true });
});
beforeEach(() => {
  h.reset();
});
afterEach(() => {
  expect(h.fake.violations).toEqual([]);
});

const none = { OPTOUT_GITHUB_TOKEN: "", GH_TOKEN: "", GITHUB_TOKEN: "" };

describe("token sources", () => {
  it("OPTOUT_GITHUB_TOKEN wins over GH_TOKEN, which wins over GITHUB_TOKEN", async () => {
    const cases: Array<[Record<string, string>, string, string]> = [
      [
        { OPTOUT_GITHUB_TOKEN: tokens.alice!, GH_TOKEN: tokens.bob!, GITHUB_TOKEN: tokens.carol! },
        "OPTOUT_GITHUB_TOKEN",
        "alice",
      ],
      [{ ...none, GH_TOKEN: tokens.bob!, GITHUB_TOKEN: tokens.carol! }, "GH_TOKEN", "bob"],
      [{ ...none, GITHUB_TOKEN: tokens.carol! }, "GITHUB_TOKEN", "carol"],
    ];
    for (const [env, source, login] of cases) {
      const p = await h.factory("alice", { env: { ...env, PATH: bin } }).f.unchecked();
      expect(await p.tokenSource()).toBe(source);
      expect((await p.identity()).login).toBe(login);
    }
  });

  it("falls back to `gh auth token` for the API's host, when gh is on PATH", async () => {
    const args = join(bin, "args");
    await writeFile(
      join(bin, "gh"),
      `#!/bin/sh\necho "$@" > "${args}"\necho ghp_fromthegithubcli0000000000000000000\n`,
    );
    await chmod(join(bin, "gh"), 0o755);
    h.fake.world.addUser("dana", "ghp_fromthegithubcli0000000000000000000");
    const p = await h.factory("alice", { env: { ...none, PATH: `${bin}:/usr/bin:/bin` } }).f.unchecked();
    expect(await p.tokenSource()).toBe("gh auth token");
    expect((await p.identity()).login).toBe("dana");
    // Not github.com: gh is asked for this server's token.
    expect((await readFile(args, "utf8")).trim()).toBe(`auth token --hostname ${new URL(h.fake.url).host}`);
    await rm(join(bin, "gh"));
  });

  it("with no token anywhere, says how to get one (exit 3) and makes no request", async () => {
    const p = await h.factory("alice", { env: { ...none, PATH: bin } }).f.unchecked();
    await expect(p.identity()).rejects.toMatchObject({
      exitCode: 3,
      message: "not authenticated to GitHub: no token found",
      hint: "set OPTOUT_GITHUB_TOKEN (or GH_TOKEN / GITHUB_TOKEN), or log in with `gh auth login`",
    });
    expect(h.fake.requests).toEqual([]);
  });
});

describe("startup cost", () => {
  it("octokit is imported on the first request, not when the provider is built", async () => {
    const hook = join(repoRoot, "test", "fixtures", "trace-imports.mjs");
    const script = `
      const { createGitHubProvider } = await import(${JSON.stringify(join(repoRoot, "dist/providers/github/index.js"))});
      const p = createGitHubProvider({
        policy: { github: {}, audit: { branch: "optout/audit" }, stages: {}, flags: {} },
        repo: "acme/shop",
        env: { OPTOUT_GITHUB_TOKEN: ${JSON.stringify(tokens.alice)}, GITHUB_API_URL: ${JSON.stringify(h.fake.url)} },
        log() {}, progress() {}, warn() {}, now: () => new Date(),
      });
      await p.tokenSource();
      process.stderr.write("--- first request\\n");
      console.log((await p.identity()).login);
    `;
    const { stdout, stderr } = await exec(
      process.execPath,
      ["--import", hook, "--input-type=module", "-e", script],
      {
        env: { PATH: process.env.PATH ?? "", OPTOUT_TRACE_IMPORTS: "1" },
      },
    );
    expect(stdout.trim()).toBe("alice");
    const [before, after] = stderr.split("--- first request");
    expect(before).toContain("providers/github/index.js");
    expect(before).not.toContain("@octokit");
    expect(after).toContain("@octokit/core");
    // No plugin: retry and throttling are not merely disabled, they are absent.
    expect(stderr).not.toMatch(/plugin-(retry|throttling)/);
  });
});
