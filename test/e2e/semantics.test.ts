/**
 * What is in force, as an on-call engineer meets it on plain git with the built CLI: stacked flag
 * overrides ended by unset and revert, and stacked failovers and rollouts reverted, with `status`,
 * `flag get`, `failover --show`, `report` and `revert --dry-run` agreeing (issue "What is in force",
 * items 1 and 2, and items 3 and 4 as plain git has them: a guard skip, a flag kept in the ledger;
 * on the forges they are in semantics-forges.test.ts, and item 5 on plain git in crash.test.ts).
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basePolicy, makeWorld, type World } from "../helpers/world.js";

const reason = "incident INC-4411: checkout is down";
const digest = (c: string) => `registry.example/shop@sha256:${c.repeat(64)}`;

interface Status {
  active: { id: string; op: string; target: Record<string, string | null>; expiresAt: string | null }[];
}

let w: World;
beforeAll(async () => {
  const scripts = await mkdtemp(join(tmpdir(), "optout-semantics-"));
  await writeFile(join(scripts, "deploy.mjs"), "process.exit(0);\n");
  const command = [process.execPath, join(scripts, "deploy.mjs")];
  w = await makeWorld({
    people: ["alice", "bob"],
    policy: basePolicy({
      flags: {
        X: { values: ["10", "25", "50", "90"], allow: ["oncall"] },
        DEPLOY_TARGET: { values: ["blue", "green"], environments: ["production"], allow: ["oncall"] },
      },
      rollout: {
        command: [...command, "{artifact}"],
        environments: ["production"],
        artifact: { pattern: "^registry\\.example/shop@sha256:[0-9a-f]{64}$" },
        allow: ["oncall"],
      },
      failover: { targets: ["us-east-1", "eu-west-1"], command: [...command, "{target}"], allow: ["oncall"] },
    }),
  });
});
afterAll(() => w.cleanup());

async function ok(person: string, args: string[], env?: Record<string, string>) {
  const r = await w.run(person, args, env ? { env } : {});
  expect(r.code, `optout ${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r;
}
const json = async <T = Record<string, unknown>>(
  person: string,
  args: string[],
  env?: Record<string, string>,
) => JSON.parse((await ok(person, [...args, "--json"], env)).stdout) as T;
const status = (env?: Record<string, string>) => json<Status>("bob", ["status"], env);
const flagGet = async () => {
  const r = await w.run("bob", ["flag", "get", "X"]);
  return r.code === 0 ? r.stdout.trim() : { code: r.code, stdout: r.stdout };
};

describe("item 1: stacked flag overrides end by restoring the baseline", () => {
  it("set 25, set 50, unset: the state from before optout, not 25; a second unset is an error", async () => {
    const a = await json("alice", ["flag", "set", "X", "25", "--reason", reason]);
    const b = await json("bob", ["flag", "set", "X", "50", "--reason", reason]);
    expect(b.record).toMatchObject({ links: { replaces: a.id }, before: { value: "25" } });
    // The plan said whose override it replaced, and until when that one would have run.
    expect(b.plan).toContain(`replaces ${a.id} by alice, until ${a.expiresAt}`);
    expect(await flagGet()).toBe("50");
    const unset = await json("bob", ["flag", "unset", "X", "--reason", reason]);
    // Recorded like a revert of what was in force, restoring the baseline (nothing), with no
    // revert command it could not honour.
    expect(unset.record).toMatchObject({ type: "revert", links: { reverts: b.id }, after: { value: null } });
    expect(unset.revert).toBeNull();
    expect(await flagGet()).toEqual({ code: 1, stdout: "" });
    expect((await status()).active).toEqual([]);
    const again = await w.run("bob", ["flag", "unset", "X", "--reason", reason]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/flag X is not overridden by optout/);
    // Nothing came back that `expire` would have to end, now or after every TTL.
    const later = { OPTOUT_NOW: new Date(Date.now() + 30 * 3_600_000).toISOString() };
    expect((await ok("bob", ["expire"], later)).stdout).toMatch(/nothing to expire/);
    // The replaced 25 is not in force, so revert refuses it rather than bring it back.
    const old = await w.run("alice", ["revert", String(a.id), "--reason", reason]);
    expect(old.code).toBe(2);
    expect(await flagGet()).toEqual({ code: 1, stdout: "" });
  });

  it("set 10, set 90, revert the 90: the revert record says what flag get then reads", async () => {
    await json("alice", ["flag", "set", "X", "10", "--reason", reason]);
    const ninety = await json("alice", ["flag", "set", "X", "90", "--reason", reason]);
    const revert = await json("alice", ["revert", String(ninety.id), "--reason", reason]);
    expect(revert.record).toMatchObject({ type: "revert", before: { value: "90" }, after: { value: null } });
    expect(await flagGet()).toEqual({ code: 1, stdout: "" });
    const { flags: list } = await json<{ flags: { flag: string; value: string | null }[] }>("bob", [
      "flag",
      "list",
    ]);
    expect(list.find((f) => f.flag === "X")).toEqual({ flag: "X", env: null, value: null });
    expect((await status()).active).toEqual([]);
  });
});

describe("item 2: failovers and rollouts stack; status, --show, report and revert agree", () => {
  it("failover to eu-west-1, to us-east-1, revert the second: eu-west-1 is in force under its own id", async () => {
    const first = await json("alice", ["failover", "--to", "eu-west-1", "--reason", reason]);
    const second = await json("alice", ["failover", "--to", "us-east-1", "--reason", reason]);
    await ok("bob", ["revert", String(second.id), "--reason", reason]);

    expect(await json("bob", ["failover", "--show"])).toMatchObject({ target: "eu-west-1", id: first.id });
    const s = (await status()).active.filter((a) => a.op === "failover");
    expect(s.map((a) => [a.id, a.target.target])).toEqual([[first.id, "eu-west-1"]]);
    // Reverting the undone one again is refused; reverting the one in force goes back before it.
    const twice = await w.run("bob", ["revert", String(second.id), "--reason", reason]);
    expect(twice.code).toBe(2);
    // The one in force now had nothing recorded before it (plain git cannot read a target): its
    // revert is refused, and never plans to redo the undone us-east-1.
    const back = await w.run("bob", ["revert", String(first.id), "--reason", reason, "--dry-run"]);
    expect(back.code).toBe(2);
    expect(back.stderr).toMatch(/nothing to fail back to/);
  });

  it("rollouts: reverting the newest returns to its before; reverting a superseded one names the newer", async () => {
    const a = await json("alice", [
      "rollout",
      "--artifact",
      digest("a"),
      "--env",
      "production",
      "--reason",
      reason,
    ]);
    const b = await json("alice", [
      "rollout",
      "--artifact",
      digest("b"),
      "--env",
      "production",
      "--reason",
      reason,
    ]);
    const c = await json("alice", [
      "rollout",
      "--artifact",
      digest("c"),
      "--env",
      "production",
      "--reason",
      reason,
    ]);
    const superseded = await w.run("bob", ["revert", String(b.id), "--reason", reason]);
    expect(superseded.code).toBe(2);
    expect(superseded.stderr).toContain(String(c.id));
    await ok("bob", ["revert", String(c.id), "--reason", reason]);
    const s = (await status()).active.filter((x) => x.op === "rollout");
    expect(s.map((x) => [x.id, x.target.artifact])).toEqual([[b.id, digest("b")]]);
    const plan = await json("bob", ["revert", String(b.id), "--reason", reason, "--dry-run"]);
    expect(plan.record).toMatchObject({
      before: { artifact: digest("b") },
      after: { artifact: digest("a") },
    });
    expect(a.id).toBeTruthy();
  });

  it("status lists what is in force with the ids revert takes, and short digests", async () => {
    const s = (await status()).active;
    const text = (await ok("bob", ["status"])).stdout;
    const rows = text.split("\n").filter((l) => /^ {2}[0-9A-Z]{26} /.test(l));
    expect(rows.map((l) => l.trim().split(/\s+/)[0]).sort()).toEqual(s.map((a) => a.id).sort());
    expect(text).not.toContain(digest("b"));
    expect(text).toMatch(/sha256:b{6,}…/);
    // Fits 100 columns, whatever the artifact's name.
    expect(Math.max(...text.split("\n").map((l) => [...l].length))).toBeLessThanOrEqual(100);
  });

  it("report counts as still active exactly what status lists", async () => {
    const s = (await status()).active;
    expect(s.map((a) => a.op).sort()).toEqual(["failover", "rollout"]);
    const report = await json<{ total: { endings: { stillActive: number } } }>("bob", ["report"]);
    expect(report.total.endings.stillActive).toBe(s.length);
  });
});

describe("items 3 and 4 on plain git: what guard and flag get read after a stack ends", () => {
  it("skip A, skip B, revert B: guard runs the stage, status lists nothing, expire has nothing", async () => {
    const a = await json("alice", ["skip", "lint", "--ref", "main", "--reason", reason]);
    // Replacing alice's waiver is asked; without a terminal it takes --yes.
    const b = await json("bob", ["skip", "lint", "--ref", "main", "--reason", reason, "--yes"]);
    expect(b.record).toMatchObject({ links: { replaces: a.id } });
    expect((await w.run("bob", ["guard", "lint", "--ref", "main"])).code).toBe(0);
    await ok("bob", ["revert", String(b.id), "--reason", reason]);
    const guard = await w.run("bob", ["guard", "lint", "--ref", "main"]);
    expect(guard.code, guard.stderr).toBe(1);
    expect((await status()).active.filter((x) => x.op === "skip")).toEqual([]);
    const later = { OPTOUT_NOW: new Date(Date.now() + 30 * 3_600_000).toISOString() };
    expect((await ok("bob", ["expire"], later)).stdout).toMatch(/nothing to expire/);
  });

  it("a flag in an environment: unset ends it, prints no revert command, and nothing is left", async () => {
    const set = await json("alice", [
      "flag",
      "set",
      "DEPLOY_TARGET",
      "blue",
      "--env",
      "production",
      "--reason",
      reason,
    ]);
    const unset = await ok("alice", [
      "flag",
      "unset",
      "DEPLOY_TARGET",
      "--env",
      "production",
      "--reason",
      reason,
    ]);
    expect(unset.stdout + unset.stderr).not.toMatch(/optout revert/);
    expect((await w.run("bob", ["flag", "get", "DEPLOY_TARGET", "--env", "production"])).code).toBe(1);
    expect((await w.run("alice", ["revert", String(set.id), "--reason", reason])).code).toBe(2);
  });
});
