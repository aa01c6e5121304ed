/**
 * A world for the GitHub provider's tests: the fake GitHub API, a real temp repository with a
 * bare remote, real keys and allowed_signers, and the real Factory with only its forge hook
 * pointed at the fake (its timings and captured output): the signer check, the flow's
 * dependencies and the commands (runSkip, runRevert, runExpire) are the Factory's own.
 */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import type { ProviderContext } from "../../src/core/ports.js";
import { Factory, type Globals } from "../../src/factory.js";
import { createGitHubProvider, type GitHubProvider } from "../../src/providers/github/index.js";
import { IO } from "../../src/ui/io.js";
import { FakeGitHub } from "../fakes/github/server.js";
import type { FakeRepo } from "../fakes/github/state.js";
import { basePolicy, git, makeWorld, type World } from "../helpers/world.js";

/** Token-shaped, so any leak would also be caught by shape. */
export const tokens: Record<string, string> = {
  alice: `ghp_${"a1".repeat(18)}`,
  bob: `ghp_${"b2".repeat(18)}`,
  carol: `ghp_${"c3".repeat(18)}`,
};

export const artifact = (n: number) => `ghcr.io/acme/shop@sha256:${String(n).repeat(64).slice(0, 64)}`;

export function githubPolicy(over: Record<string, unknown> = {}): Record<string, unknown> {
  return basePolicy({
    provider: "github",
    groups: { oncall: ["team:acme/oncall", "user:dana"] },
    stages: {
      lint: { mechanism: "status", context: "ci/lint", allow: ["role:write"] },
      e2e: { mechanism: "status", context: "ci/e2e", allow: ["oncall"] },
      scan: { mechanism: "variable", variable: "OPTOUT_SKIP_SCAN", allow: ["user:alice"] },
      docs: { mechanism: "guard", allow: ["user:alice"] },
    },
    flags: {
      DEPLOY_FREEZE_BYPASS: {
        values: ["true", "false"],
        environments: ["staging", "production"],
        allow: ["role:maintain"],
      },
      VERBOSE_DEPLOY: { values: ["1", "0"], allow: ["user:alice"] },
    },
    rollout: {
      workflow: "deploy.yml",
      environments: ["staging", "production"],
      artifact: { pattern: "^ghcr\\.io/acme/shop@sha256:[0-9a-f]{64}$" },
      skippable: ["e2e"],
      allow: ["user:alice"],
    },
    failover: {
      variable: "ACTIVE_REGION",
      targets: ["us-east-1", "eu-west-1"],
      workflow: "failover.yml",
      ref: "main",
      environments: ["production"],
      allow: ["user:alice"],
    },
    ...over,
  });
}

export interface Captured {
  stdout: string;
  stderr: string;
  log: string[];
  progress: string[];
  warnings: string[];
}

export interface RunOptions {
  env?: Record<string, string>;
  retry?: ProviderContext["retry"];
  dryRun?: boolean;
  json?: boolean;
}

export class GitHubTestFactory extends Factory {
  hooks!: { captured: Captured; retry: ProviderContext["retry"]; made?: GitHubProvider };

  /** The provider the Factory wraps in its signer check, with this test's timings and captured output. */
  protected override async forge(ctx: ProviderContext): Promise<GitHubProvider> {
    const c = this.hooks.captured;
    this.hooks.made = createGitHubProvider({
      ...ctx,
      log: (l) => c.log.push(l),
      progress: (t) => c.progress.push(t),
      warn: (t) => c.warnings.push(t),
      ...(this.hooks.retry ? { retry: this.hooks.retry } : {}),
    });
    return this.hooks.made;
  }

  /** The forge's provider alone, without the Factory's signer check: for token and identity tests. */
  async unchecked(): Promise<GitHubProvider> {
    const [policy, repo] = await Promise.all([this.policy(), this.repoName()]);
    const ctx = { policy, repo, env: this.env, log: () => {}, progress: () => {}, warn: () => {} };
    return this.forge({ ...ctx, now: () => this.now() });
  }

  /** The provider as GitHub's: the object provider() hands out, signer check included. */
  async github(): Promise<GitHubProvider> {
    return (await this.provider()) as GitHubProvider;
  }
}

export interface Harness {
  fake: FakeGitHub;
  w: World;
  /** The fake's acme/shop, fresh for each test. */
  repo(): FakeRepo;
  /** A Factory acting as `person`, and what it printed. */
  factory(person: string, o?: RunOptions): { f: GitHubTestFactory; out: Captured };
  /** Every file on the audit branch of the remote, concatenated. */
  auditText(): Promise<string>;
  /** This test's audit branch: each test gets a fresh ledger. */
  auditBranch(): string;
  /** A fresh fake world and ledger; returns the fake's acme/shop. */
  reset(): FakeRepo;
  close(): Promise<void>;
}

/**
 * One harness for a test file: started before its tests, reset before each, closed after, and
 * checked after each test that the fake saw no request the real API would refuse. Returns a
 * stand-in that forwards to the harness once it exists.
 */
export function useHarness(policy?: Record<string, unknown>): Harness {
  let h: Harness | undefined;
  beforeAll(async () => {
    h = await makeHarness(policy);
  });
  afterAll(() => h?.close());
  beforeEach(() => {
    h!.reset();
  });
  afterEach(() => {
    expect(h!.fake.violations).toEqual([]);
  });
  return new Proxy({} as Harness, { get: (_t, key) => h![key as keyof Harness] });
}

export async function makeHarness(policy = githubPolicy()): Promise<Harness> {
  const fake = await FakeGitHub.start();
  const w = await makeWorld({ people: ["alice", "bob", "carol"], policy });
  let repo: FakeRepo | undefined;
  const auditBranch = () => "optout/audit";
  const reset = () => {
    // The policy in force is main's (pushed once); a fresh ledger for every test: the audit branch
    // is deleted on the remote and forgotten by the clone.
    for (const [cwd, ref] of [
      [w.remote, "refs/heads/optout/audit"],
      [w.work, "refs/remotes/origin/optout/audit"],
    ] as const) {
      execFileSync("git", ["update-ref", "-d", ref], { cwd });
    }
    rmSync(join(w.work, ".git", "optout"), { recursive: true, force: true });
    fake.reset();
    for (const [login, token] of Object.entries(tokens)) fake.world.addUser(login, token);
    repo = fake.world.addRepo("acme/shop");
    repo.setRole("alice", "admin");
    repo.setRole("bob", "read");
    // carol has no role on the repository: it is private to her (404), but she is on call.
    fake.world.addTeamMember("acme/oncall", "carol");
    return repo;
  };
  reset();
  return {
    fake,
    w,
    repo: () => repo!,
    reset,
    auditBranch,
    factory(person, o = {}) {
      const out: Captured = { stdout: "", stderr: "", log: [], progress: [], warnings: [] };
      const env = w.env(person, {
        GITHUB_API_URL: fake.url,
        OPTOUT_GITHUB_TOKEN: tokens[person] ?? "",
        OPTOUT_POLL_INTERVAL_MS: "20",
        ...o.env,
      });
      const globals: Globals = {
        json: o.json ?? false,
        yes: true,
        dryRun: o.dryRun ?? false,
        verbose: false,
      };
      const io = new IO(
        {
          stdout: { write: (s: string) => (out.stdout += s) },
          stderr: { write: (s: string) => (out.stderr += s) },
          stdin: {},
        },
        env,
        globals,
      );
      const f = new GitHubTestFactory(globals, io, env, w.work);
      f.hooks = {
        captured: out,
        retry: o.retry ?? { budgetMs: 10_000, maxAttempts: 4, maxRetryAfterMs: 5_000 },
      };
      return { f, out };
    },
    async auditText() {
      const dir = await w.clone(`audit-${Date.now()}-${Math.random().toString(36).slice(2)}`);
      await git(dir, "fetch", "-q", "origin", auditBranch());
      const files = (await git(dir, "ls-tree", "-r", "--name-only", "FETCH_HEAD"))
        .split("\n")
        .filter(Boolean);
      const texts = await Promise.all(files.map((p) => git(dir, "show", `FETCH_HEAD:${p}`)));
      return texts.join("\n");
    },
    close: async () => {
      await fake.close();
      await w.cleanup();
    },
  };
}
