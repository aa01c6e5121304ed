/**
 * A GitLab world for the provider tests: the fake GitLab API, a throwaway git remote with the
 * policy and allowed_signers (test/helpers/world.ts), and the real Factory: its provider (the
 * signer check included), its ledger and its flow dependencies drive the real override flow
 * (src/core/flow.ts). Only the Factory's forge hook is pointed at the fake, with this test's
 * timings and captured output.
 */
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import type { FlowDeps, FlowResult } from "../../src/core/flow.js";
import { runOverride, runRestore } from "../../src/core/flow.js";
import type { Policy } from "../../src/core/policy.js";
import type { ProviderContext } from "../../src/core/ports.js";
import type { InForce } from "../../src/core/state.js";
import { Factory } from "../../src/factory.js";
import { createGitLabProvider, type GitLabProvider } from "../../src/providers/gitlab/index.js";
import { IO } from "../../src/ui/io.js";
import { Level } from "../fakes/gitlab/model.js";
import { type FakeGitLab, startFakeGitLab } from "../fakes/gitlab/server.js";
import { basePolicy, makeWorld, type World } from "../helpers/world.js";

/**
 * Who is acting, as the fake's request log shows it: one GraphQL request for the user and their
 * level on the project (the default policy names a role principal, so the role check is free).
 */
export const who = "POST /api/graphql";
/** A request that changes something on GitLab (a GraphQL query changes nothing). */
export const isWrite = (q: { method: string; path: string }) =>
  q.method !== "GET" && q.path !== "/api/graphql";

export const sha1 = "1".repeat(40);
export const sha2 = "2".repeat(40);
export const sha3 = "3".repeat(40);
export const artifact = (n: number) =>
  `registry.example.com/shop@sha256:${String(n).repeat(64).slice(0, 64)}`;

export function gitlabPolicy(over: Record<string, unknown> = {}): Record<string, unknown> {
  return basePolicy({
    provider: "gitlab",
    repo: "acme/shop",
    groups: { oncall: ["user:alice", "group:acme/oncall"], releasers: ["role:maintainer"] },
    stages: {
      lint: { mechanism: "status", context: "ci/lint", allow: ["oncall"] },
      security: { mechanism: "variable", variable: "OPTOUT_SKIP_SECURITY", allow: ["oncall"] },
      e2e: { mechanism: "guard", allow: ["oncall"] },
    },
    flags: {
      DEPLOY_FREEZE_BYPASS: {
        values: ["true", "false"],
        environments: ["production", "staging"],
        allow: ["releasers"],
      },
      MAINTENANCE: { pattern: "^[\\w =+/-]+$", allow: ["oncall", "releasers"] },
    },
    rollout: {
      environments: ["staging", "production"],
      artifact: { pattern: "^registry\\.example\\.com/shop@sha256:[0-9a-f]{64}$" },
      skippable: ["e2e"],
      allow: ["releasers"],
    },
    failover: {
      variable: "ACTIVE_REGION",
      targets: ["us-east-1", "eu-west-1"],
      ref: "main",
      allow: ["oncall"],
    },
    ...over,
  });
}

/**
 * alice: developer, member of group acme (so of acme/oncall by inheritance); bob: maintainer and
 * a direct member of acme/oncall; carol: reporter, in no group; dave: not a member at all.
 */
export function seed(gl: FakeGitLab): void {
  for (const name of ["alice", "bob", "carol", "dave"]) gl.addUser(name);
  gl.addGroup("acme", { alice: Level.developer });
  gl.addGroup("acme/oncall", { bob: Level.developer });
  gl.addProject("acme/shop", {
    members: { alice: Level.developer, bob: Level.maintainer, carol: Level.reporter },
    refs: { main: sha1, "release/1.2": sha2, hotfix: sha3 },
  });
}

/** The real Factory, its forge hook pointed at the fake with this session's timings and capture. */
class GitLabTestFactory extends Factory {
  hooks!: {
    ctx: (base: ProviderContext) => ProviderContext;
    made?: { provider: GitLabProvider; ctx: ProviderContext };
  };

  protected override async forge(base: ProviderContext): Promise<GitLabProvider> {
    const ctx = this.hooks.ctx(base);
    const provider = createGitLabProvider(ctx);
    this.hooks.made = { provider, ctx };
    return provider;
  }
}

export interface Session {
  provider: GitLabProvider;
  policy: Policy;
  deps: FlowDeps;
  ctx: ProviderContext;
  /** ctx.log lines ("GET /user 200 3ms"), progress and warnings, plan and step lines. */
  log: string[];
  progress: string[];
  said: string[];
  skip(
    stage: string,
    o?: { ref?: string | null; sha?: string | null; reason?: string; ttlMs?: number },
  ): Promise<FlowResult>;
  flag(name: string, value: string | null, env?: string | null): Promise<FlowResult>;
  rollout(art: string, env: string, params?: Record<string, string | null>): Promise<FlowResult>;
  failover(target: string, env?: string | null, params?: Record<string, string | null>): Promise<FlowResult>;
  revert(id: string): Promise<FlowResult>;
  expire(id: string): Promise<FlowResult>;
  active(): Promise<InForce[]>;
}

export interface GitLabWorld {
  gl: FakeGitLab;
  w: World;
  /** A session as `person` (their key signs; their GitLab token authenticates). */
  as(person: string, o?: SessionOptions): Promise<Session>;
  cleanup(): Promise<void>;
}

export interface SessionOptions {
  env?: Record<string, string>;
  dryRun?: boolean;
  requestTimeoutMs?: number;
  retry?: ProviderContext["retry"];
  /** Leave out OPTOUT_GITLAB_TOKEN (to test other token sources). */
  noToken?: boolean;
  policyUrl?: boolean;
  /** The project as ProviderContext.repo (e.g. a numeric id; the policy file only takes paths). */
  repo?: string;
}

/**
 * One GitLab world for a describe block: started before its tests, stopped after, and checked
 * after each test that the fake saw nothing the real API would refuse. Returns a stand-in that
 * forwards to the world once it exists.
 */
export function useGitLabWorld(o: Parameters<typeof makeGitLabWorld>[0] = {}): GitLabWorld {
  let world: GitLabWorld | undefined;
  beforeAll(async () => {
    world = await makeGitLabWorld(o);
  });
  afterAll(() => world?.cleanup());
  afterEach(() => {
    expect(world!.gl.violations).toEqual([]);
    world!.gl.requests.length = 0;
    world!.gl.clearFaults();
  });
  return new Proxy({} as GitLabWorld, { get: (_t, key) => world![key as keyof GitLabWorld] });
}

export async function makeGitLabWorld(
  o: { policy?: Record<string, unknown>; people?: string[]; policyUrl?: boolean } = {},
): Promise<GitLabWorld> {
  const gl = await startFakeGitLab();
  seed(gl);
  const policy = o.policy ?? gitlabPolicy();
  if (o.policyUrl) policy.gitlab = { url: gl.url };
  const w = await makeWorld({ people: o.people ?? ["alice", "bob", "carol", "dave"], policy });
  return {
    gl,
    w,
    as: (person, so = {}) => session(gl, w, person, so),
    cleanup: async () => {
      await gl.stop();
      await w.cleanup();
    },
  };
}

async function session(gl: FakeGitLab, w: World, person: string, o: SessionOptions): Promise<Session> {
  const env: Record<string, string> = {
    ...w.env(person),
    CI_SERVER_URL: gl.url,
    ...(o.noToken ? {} : { OPTOUT_GITLAB_TOKEN: gl.user(person).token }),
    // The provider reads its timings from the environment, as in production.
    OPTOUT_HTTP_TIMEOUT_MS: String(o.requestTimeoutMs ?? 5_000),
    OPTOUT_POLL_INTERVAL_MS: "10",
    ...o.env,
  };
  const said: string[] = [];
  const sink = { write: (s: string) => said.push(s.trimEnd()) };
  const io = new IO({ stdout: sink, stderr: sink, stdin: {} }, env, {
    json: false,
    yes: true,
    verbose: true,
  });
  const log: string[] = [];
  const progress: string[] = [];
  const f = new GitLabTestFactory(
    { json: false, yes: true, dryRun: !!o.dryRun, verbose: true },
    io,
    env,
    w.work,
  );
  f.hooks = {
    // Records name the repository as the policy does; the provider may address it by number.
    ctx: (base) => ({
      ...base,
      ...(o.repo ? { repo: o.repo } : {}),
      log: (l) => log.push(l),
      progress: (t) => progress.push(t),
      warn: (t) => said.push(`warning: ${t}`),
      retry: o.retry ?? { budgetMs: 8_000, maxAttempts: 4, maxRetryAfterMs: 3_000 },
    }),
  };
  const policy = await f.policy();
  // The Factory's own provider (signer check included) and flow dependencies.
  const provider = (await f.provider()) as GitLabProvider;
  const ctx = f.hooks.made!.ctx;
  const deps = await f.flowDeps();
  const override = (
    input: Omit<Parameters<typeof runOverride>[1], "reason" | "ticket" | "ttlMs"> & {
      reason?: string;
      ttlMs?: number;
    },
  ) =>
    runOverride(deps, {
      reason: "an emergency on call, INC-4411",
      ticket: undefined,
      ttlMs: undefined,
      ...input,
    });
  const restore = (kind: "revert" | "expire", id: string) =>
    runRestore(deps, { kind, id, reason: `${kind} in a test` }, async () => {});
  /** `flag unset`: ends optout's override of the flag (restores the baseline). */
  const unset = async (name: string, env: string | null) => {
    const now = (await deps.ledger.current()).flag(name, env, { due: true });
    if (!now) throw new Error(`flag ${name} is not overridden by optout`);
    return restore("revert", now.override.id);
  };
  return {
    provider,
    policy,
    deps,
    ctx,
    log,
    progress,
    said,
    skip: (stage, so = {}) =>
      override({
        op: "skip",
        rules: policy.stages[stage]!,
        label: `skip ${stage}`,
        target: { stage, ref: so.ref === undefined ? "main" : so.ref, sha: so.sha ?? null },
        mechanism: policy.stages[stage]!.mechanism,
        ...(so.reason ? { reason: so.reason } : {}),
        ...(so.ttlMs ? { ttlMs: so.ttlMs } : {}),
      }),
    flag: (name, value, env = null) =>
      value === null
        ? unset(name, env)
        : override({
            op: "flag",
            rules: policy.flags[name]!,
            label: `${value === null ? "unset" : "set"} flag ${name}`,
            target: { flag: name, env },
            mechanism: "variable",
            params: { value },
          }),
    rollout: (art, env, params = {}) =>
      override({
        op: "rollout",
        rules: policy.rollout!,
        label: `roll out ${art} to ${env}`,
        target: { env, artifact: art },
        mechanism: "pipeline",
        params: { skip: null, wait: null, timeoutMs: null, ...params },
      }),
    failover: (target, env = null, params = {}) =>
      override({
        op: "failover",
        rules: policy.failover!,
        label: `fail over to ${target}`,
        target: { target, env },
        mechanism: "variable",
        params: { wait: null, timeoutMs: null, ...params },
      }),
    revert: (id) => restore("revert", id),
    expire: (id) => restore("expire", id),
    active: async () => (await deps.ledger.current()).active(),
  };
}

/** Everything a user or reviewer could see: messages, log lines, progress, and the records. */
export function everythingShown(s: Session, extra: unknown[] = []): string {
  return [
    ...s.said,
    ...s.log,
    ...s.progress,
    ...extra.map((x) =>
      x instanceof Error ? `${x.message} ${(x as { hint?: string }).hint ?? ""}` : JSON.stringify(x),
    ),
  ].join("\n");
}
