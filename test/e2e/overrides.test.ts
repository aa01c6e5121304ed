/**
 * Deploy flags, artifact rollouts, failover and two-person approval on the plain-git provider,
 * end to end with the built CLI, a bare remote, real keys and a real deploy command.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basePolicy, makeWorld, type World } from "../helpers/world.js";

const digest = (c: string) => `registry.example/shop@sha256:${c.repeat(64)}`;

/** A deploy command that logs its argv (one JSON line each call) and fails on request. */
const deployScript = `
import { appendFileSync } from "node:fs";
appendFileSync(process.env.DEPLOY_LOG, JSON.stringify(process.argv.slice(2)) + "\\n");
console.log("deploying", process.argv[2]);
process.exit(process.env.DEPLOY_FAIL === "1" ? 3 : 0);
`;

async function deployCalls(w: World): Promise<string[][]> {
  const log = join(w.dir, "deploy.log");
  if (!existsSync(log)) return [];
  return (await readFile(log, "utf8"))
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

function policyFor(dir: string, artifactPattern = "^registry\\.example/shop@sha256:[0-9a-f]{64}$") {
  const script = join(dir, "deploy.mjs");
  return basePolicy({
    groups: { oncall: ["user:alice", "user:bob"], approvers: ["user:bob", "user:carol"] },
    flags: {
      DEPLOY_FREEZE_BYPASS: {
        values: ["true", "false"],
        environments: ["staging", "production"],
        allow: ["oncall"],
        ttl: "2h",
      },
      LOG_LEVEL: { pattern: "^(debug|info)$", allow: ["oncall"] },
      RISKY: {
        values: ["on"],
        allow: ["oncall"],
        approvals: { required: 1, from: ["approvers"], timeout: "2s" },
      },
    },
    rollout: {
      command: [process.execPath, script, "{artifact}", "{env}", "{skip}", "{record}"],
      environments: ["staging", "production"],
      artifact: { pattern: artifactPattern },
      skippable: ["e2e"],
      allow: ["oncall"],
      approvals: { required: 1, from: ["approvers"], environments: ["production"] },
    },
    failover: {
      targets: ["us-east-1", "eu-west-1"],
      command: [process.execPath, script, "failover", "{target}", "{env}", "{record}"],
      allow: ["oncall"],
    },
  });
}

async function world(pattern?: string): Promise<World> {
  const { mkdtemp } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  // The deploy script lives outside the repo, at a path the policy names.
  const scripts = await mkdtemp(join(tmpdir(), "optout-deploy-"));
  await writeFile(join(scripts, "deploy.mjs"), deployScript);
  const w = await makeWorld({ people: ["alice", "bob", "carol"], policy: policyFor(scripts, pattern) });
  const run = w.run;
  w.run = (person, args, o = {}) =>
    run(person, args, { ...o, env: { DEPLOY_LOG: join(w.dir, "deploy.log"), ...o.env } });
  await writeFile(join(w.dir, "deploy.mjs"), deployScript);
  return w;
}

const reason = "incident INC-4411: checkout is down";

describe("deploy flags", () => {
  let w: World;
  beforeAll(async () => {
    w = await world();
  });
  afterAll(() => w.cleanup());

  it("set, get, list, unset, revert and expire", async () => {
    const unset = await w.run("alice", ["flag", "get", "DEPLOY_FREEZE_BYPASS", "--env", "production"]);
    expect([unset.code, unset.stdout]).toEqual([1, ""]);

    const set = await w.run("alice", [
      "flag",
      "set",
      "DEPLOY_FREEZE_BYPASS",
      "true",
      "--env",
      "production",
      "--reason",
      reason,
      "--json",
    ]);
    expect(set.code, set.stderr).toBe(0);
    const setOut = JSON.parse(set.stdout);
    expect(setOut.record).toMatchObject({
      type: "flag",
      target: { flag: "DEPLOY_FREEZE_BYPASS", env: "production" },
      before: { value: null },
      after: { value: "true" },
    });
    expect(Date.parse(setOut.expiresAt) - Date.parse(setOut.record.time)).toBeGreaterThan(7_100_000);

    const get = await w.run("bob", ["flag", "get", "DEPLOY_FREEZE_BYPASS", "--env", "production"]);
    expect([get.code, get.stdout]).toEqual([0, "true\n"]);
    expect((await w.run("bob", ["flag", "get", "DEPLOY_FREEZE_BYPASS", "--env", "staging"])).code).toBe(1);
    const dotenv = await w.run("bob", ["flag", "list", "--format", "dotenv", "--env", "production"]);
    expect(dotenv.stdout).toBe("DEPLOY_FREEZE_BYPASS='true'\n");

    const again = await w.run("bob", [
      "flag",
      "set",
      "DEPLOY_FREEZE_BYPASS",
      "false",
      "--env",
      "production",
      "--reason",
      reason,
      "--json",
    ]);
    expect(JSON.parse(again.stdout).record.before).toEqual({ value: "true" });
    const un = await w.run("bob", [
      "flag",
      "unset",
      "DEPLOY_FREEZE_BYPASS",
      "--env",
      "production",
      "--reason",
      reason,
      "--ticket",
      "INC-4711",
      "--json",
    ]);
    expect(un.code, un.stderr).toBe(0);
    // Unset ends optout's override: the baseline (nothing, before optout) is back, not "true".
    expect(JSON.parse(un.stdout).record).toMatchObject({
      type: "revert",
      ticket: "INC-4711",
      before: { value: "false" },
      after: { value: null },
    });
    expect(JSON.parse(un.stdout).revert).toBeNull();
    const gone = await w.run("bob", ["flag", "get", "DEPLOY_FREEZE_BYPASS", "--env", "production"]);
    expect([gone.code, gone.stdout]).toEqual([1, ""]);
    // Unsetting what optout does not override is an error, with no request and no record.
    const again2 = await w.run("bob", [
      "flag",
      "unset",
      "DEPLOY_FREEZE_BYPASS",
      "--env",
      "production",
      "--reason",
      reason,
    ]);
    expect(again2.code).toBe(2);
    expect(again2.stderr).toMatch(/not overridden by optout/);

    const level = JSON.parse(
      (await w.run("alice", ["flag", "set", "LOG_LEVEL", "debug", "--reason", reason, "--json"])).stdout,
    );
    expect((await w.run("alice", ["flag", "get", "LOG_LEVEL"])).stdout).toBe("debug\n");
    expect((await w.run("alice", ["revert", level.id, "--reason", "done debugging"])).code).toBe(0);
    expect((await w.run("alice", ["flag", "get", "LOG_LEVEL"])).code).toBe(1);

    await w.run("alice", ["flag", "set", "LOG_LEVEL", "info", "--reason", reason, "--ttl", "1h"]);
    // A ledger-only flag stops counting at its TTL; expire records the end, once.
    const later = { OPTOUT_NOW: new Date(Date.now() + 2 * 3_600_000).toISOString() };
    expect((await w.run("alice", ["flag", "get", "LOG_LEVEL"], { env: later })).code).toBe(1);
    expect((await w.run("alice", ["expire"], { env: later })).stdout).toMatch(/expired flag LOG_LEVEL/);
    expect((await w.run("alice", ["expire"], { env: later })).stdout).toMatch(/nothing to expire/);
  });

  it("refuses values, environments and flags outside the policy before any side effect", async () => {
    const before = (await w.run("alice", ["log", "--json"])).stdout;
    const cases: [string[], RegExp][] = [
      [
        ["flag", "set", "DEPLOY_FREEZE_BYPASS", "yes", "--env", "production"],
        /"yes" is not a value of flag DEPLOY_FREEZE_BYPASS/,
      ],
      [
        ["flag", "set", "DEPLOY_FREEZE_BYPASS", "true", "--env", "qa"],
        /--env "qa" is not an environment of flag DEPLOY_FREEZE_BYPASS/,
      ],
      [["flag", "set", "NOPE", "1"], /flag "NOPE" is not declared in the policy/],
      [["flag", "set", "LOG_LEVEL", "trace"], /does not match the pattern of flag LOG_LEVEL/],
      [
        ["flag", "set", "LOG_LEVEL", "debug", "--env", "production"],
        /flag LOG_LEVEL is repo-wide; --env is not allowed/,
      ],
      [["flag", "set", "DEPLOY_FREEZE_BYPASS", "true"], /missing --env/],
    ];
    for (const [args, message] of cases) {
      const r = await w.run("alice", [...args, "--reason", reason]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect((await w.run("alice", ["log", "--json"])).stdout).toBe(before);
  });
});

describe("rollouts", () => {
  it("runs the command, records before, fails clearly, and reverts to the previous artifact", async () => {
    const w = await world();
    try {
      const a = await w.run("alice", [
        "rollout",
        "--artifact",
        digest("a"),
        "--env",
        "staging",
        "--skip",
        "e2e",
        "--reason",
        reason,
        "--json",
      ]);
      expect(a.code, a.stderr).toBe(0);
      expect(a.stderr).toContain(`deploying ${digest("a")}`);
      const aOut = JSON.parse(a.stdout);
      expect(aOut.record).toMatchObject({
        type: "rollout",
        outcome: "intent",
        before: { artifact: null },
        mechanism: "command",
      });
      expect(aOut.result).toMatchObject({ type: "result", outcome: "applied", links: { intent: aOut.id } });

      const b = JSON.parse(
        (
          await w.run("bob", [
            "rollout",
            "--artifact",
            digest("b"),
            "--env",
            "staging",
            "--reason",
            reason,
            "--json",
          ])
        ).stdout,
      );
      expect(b.record.before).toEqual({ artifact: digest("a") });

      const failed = await w.run(
        "bob",
        ["rollout", "--artifact", digest("c"), "--env", "staging", "--reason", reason],
        {
          env: { DEPLOY_FAIL: "1" },
        },
      );
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/rollout command: .* exited with 3/);
      const log = JSON.parse((await w.run("bob", ["log", "--json", "--limit", "1"])).stdout).records;
      expect(log[0]).toMatchObject({
        type: "result",
        outcome: "failed",
        error: expect.stringMatching(/exited with 3/),
      });

      const revert = await w.run("alice", ["revert", b.id, "--reason", "b breaks checkout"]);
      expect(revert.code, revert.stderr).toBe(0);
      const calls = await deployCalls(w);
      expect(calls.map((c) => c[0])).toEqual([digest("a"), digest("b"), digest("c"), digest("a")]);
      expect(calls[0]).toEqual([digest("a"), "staging", "e2e", aOut.id]);

      const refused: [string[], RegExp][] = [
        [
          ["--artifact", "registry.example/shop:latest", "--env", "staging"],
          /does not match the policy's artifact.pattern/,
        ],
        [["--artifact", digest("d"), "--env", "qa"], /--env "qa" is not a rollout environment/],
        [["--artifact", digest("d"), "--env", "staging", "--skip", "lint"], /--skip lint: not skippable/],
      ];
      for (const [args, message] of refused) {
        const r = await w.run("alice", ["rollout", ...args, "--reason", reason]);
        expect([r.code, r.stderr.match(message) !== null]).toEqual([2, true]);
      }
      expect((await deployCalls(w)).length).toBe(4);
      expect((await w.run("alice", ["log", "--verify"])).code).toBe(0);
    } finally {
      await w.cleanup();
    }
  });

  it("passes hostile text to the command as one literal argument each", async () => {
    const w = await world("^.+$");
    try {
      const evil = `x; touch pwned $(touch pwned2) "q" 'q' \`touch pwned3\``;
      const r = await w.run("alice", [
        "rollout",
        "--artifact",
        evil,
        "--env",
        "staging",
        "--reason",
        `reason with ; and $(rm -rf /) "quotes"`,
      ]);
      expect(r.code, r.stderr).toBe(0);
      const [call] = await deployCalls(w);
      expect(call![0]).toBe(evil);
      expect(call!.length).toBe(4);
      for (const f of ["pwned", "pwned2", "pwned3"]) {
        expect(existsSync(join(w.work, f))).toBe(false);
        expect(existsSync(join(w.dir, f))).toBe(false);
      }
    } finally {
      await w.cleanup();
    }
  });
});

describe("failover", () => {
  it("fails over and back", async () => {
    const w = await world();
    try {
      expect((await w.run("alice", ["failover", "--show"])).code).toBe(1);
      const first = await w.run("alice", ["failover", "--to", "eu-west-1", "--reason", reason, "--json"]);
      expect(first.code, first.stderr).toBe(0);
      expect((await w.run("bob", ["failover", "--show"])).stdout).toBe("eu-west-1\n");
      const second = JSON.parse(
        (await w.run("bob", ["failover", "--to", "us-east-1", "--reason", reason, "--json"])).stdout,
      );
      expect(second.record.before).toEqual({ target: "eu-west-1" });
      expect((await w.run("bob", ["failover", "--show"])).stdout).toBe("us-east-1\n");
      expect((await w.run("alice", ["revert", second.id, "--reason", "us-east-1 is still sick"])).code).toBe(
        0,
      );
      expect((await w.run("bob", ["failover", "--show"])).stdout).toBe("eu-west-1\n");
      expect((await deployCalls(w)).map((c) => c.slice(0, 2))).toEqual([
        ["failover", "eu-west-1"],
        ["failover", "us-east-1"],
        ["failover", "eu-west-1"],
      ]);
      const bad = await w.run("alice", ["failover", "--to", "mars-1", "--reason", reason]);
      expect([bad.code, /--to "mars-1" is not a failover target/.test(bad.stderr)]).toEqual([2, true]);
    } finally {
      await w.cleanup();
    }
  });
});

describe("two-person approval", () => {
  it("a request is applied only by a second person, once", async () => {
    const w = await world();
    try {
      const req = await w.run("alice", [
        "rollout",
        "--artifact",
        digest("e"),
        "--env",
        "production",
        "--reason",
        reason,
        "--json",
      ]);
      expect(req.code).toBe(4);
      const pending = JSON.parse(req.stdout);
      expect(pending).toMatchObject({
        type: "request",
        status: "pending",
        approve: `optout approve ${pending.id}`,
      });
      expect(req.stderr).toMatch(/awaits 1 approval\(s\) from user:bob, user:carol/);
      expect(await deployCalls(w)).toEqual([]);
      const status = JSON.parse((await w.run("bob", ["status", "--json"])).stdout);
      expect(status.pending.map((p: { id: string }) => p.id)).toEqual([pending.id]);

      const self = await w.run("alice", ["approve", pending.id]);
      expect(self.code).toBe(3);
      expect(self.stderr).toMatch(/alice may not approve their own request/);

      const ok = await w.run("carol", ["approve", pending.id, "--json"]);
      expect(ok.code, ok.stderr).toBe(0);
      const applied = JSON.parse(ok.stdout);
      expect(applied.record).toMatchObject({
        type: "rollout",
        requester: "alice",
        approvers: ["carol"],
        links: { request: pending.id },
        actor: { login: "carol" },
      });
      expect((await deployCalls(w)).map((c) => c[0])).toEqual([digest("e")]);
      expect((await w.run("bob", ["approve", pending.id])).code).toBe(2);
      expect(JSON.parse((await w.run("bob", ["status", "--json"])).stdout).pending).toEqual([]);
      const types = JSON.parse((await w.run("bob", ["log", "--json"])).stdout).records.map(
        (r: { type: string }) => r.type,
      );
      expect(types).toEqual(["result", "rollout", "approve", "deny", "request"]);
      expect((await w.run("bob", ["log", "--verify"])).code).toBe(0);
    } finally {
      await w.cleanup();
    }
  });

  it("a rejected request is not applied; an expired one cannot be approved", async () => {
    const w = await world();
    try {
      const req = JSON.parse(
        (
          await w.run("alice", [
            "rollout",
            "--artifact",
            digest("f"),
            "--env",
            "production",
            "--reason",
            reason,
            "--json",
          ])
        ).stdout,
      );
      expect((await w.run("carol", ["reject", req.id])).code).toBe(2);
      const rej = await w.run("carol", ["reject", req.id, "--reason", "not during the freeze"]);
      expect(rej.code, rej.stderr).toBe(0);
      expect((await w.run("bob", ["approve", req.id])).code).toBe(2);
      expect(await deployCalls(w)).toEqual([]);

      const risky = JSON.parse(
        (await w.run("alice", ["flag", "set", "RISKY", "on", "--reason", reason, "--json"])).stdout,
      );
      expect(risky.status).toBe("pending");
      // An hour later by the injected clock: the request's 2 s are long gone.
      const later = { env: { OPTOUT_NOW: new Date(Date.now() + 3_600_000).toISOString() } };
      const late = await w.run("bob", ["approve", risky.id], later);
      expect(late.code).toBe(2);
      expect(late.stderr).toMatch(new RegExp(`request ${risky.id} expired at`));
      const exp = await w.run("bob", ["expire"], later);
      expect(exp.stdout).toMatch(new RegExp(`closed request ${risky.id}`));
      expect(JSON.parse((await w.run("bob", ["status", "--json"], later)).stdout).pending).toEqual([]);
      expect((await w.run("bob", ["flag", "get", "RISKY"], later)).code).toBe(1);
    } finally {
      await w.cleanup();
    }
  });
});
