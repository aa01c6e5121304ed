/**
 * `optout report` end to end: a ledger written by the real CLI (three people, two stages, a flag,
 * a rollout on a real command, a revert, expiries by `expire --now`, reviews), then every figure of
 * `report --json` against values worked out here from the records themselves, and the terminal and
 * markdown renderings.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LedgerRecord } from "../../src/core/record.js";
import { basePolicy, makeWorld, type World } from "../helpers/world.js";

const HOUR = 3_600_000;
const artifact = `registry.example/shop@sha256:${"a".repeat(64)}`;
const longReason =
  "Debugging checkout incident — 🔥 customers cannot pay; we need debug logs from the payment service for a few hours";

function policy() {
  return basePolicy({
    groups: { oncall: ["user:alice", "user:bob"] },
    flags: { LOG_LEVEL: { pattern: "^(debug|info)$", allow: ["user:carol"] } },
    rollout: {
      command: [process.execPath, "-e", "process.exit(0)", "{artifact}", "{env}"],
      environments: ["production"],
      artifact: { pattern: "^registry\\.example/shop@sha256:[0-9a-f]{64}$" },
      allow: ["oncall"],
    },
  });
}

/** The clock the commands run at (OPTOUT_NOW once the setup has moved it on). */
let clock: Record<string, string> = {};

async function ok(w: World, person: string, args: string[]): Promise<Record<string, unknown>> {
  const r = await w.run(person, [...args, "--json"], { env: clock });
  expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout);
}

const columns = (s: string) => s.split("\n").map((l) => [...l.replace(/\u001b\[[0-9;]*m/g, "")].length);

describe("optout report", () => {
  let w: World;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    w = await makeWorld({ people: ["alice", "bob", "carol"], policy: policy() });
    const skip = (p: string, stage: string, reason: string, extra: string[]) =>
      ok(w, p, ["skip", stage, "--reason", reason, ...extra]);
    ids.A = (await skip("alice", "lint", "Linter crashes on node 22", ["--ttl", "1h"])).id as string;
    ids.B = (
      await skip("bob", "lint", "  linter crashes on NODE 22 ", [
        "--ref",
        "release",
        "--allow-missing-ref",
        "--ttl",
        "2h",
      ])
    ).id as string;
    ids.C = (await skip("alice", "e2e", "E2E flaky on chrome again", ["--ttl", "30m"])).id as string;
    ids.D = (await ok(w, "carol", ["flag", "set", "LOG_LEVEL", "debug", "--reason", longReason]))
      .id as string;
    await ok(w, "bob", ["revert", ids.A!, "--reason", "linter fixed by pinning"]);
    ids.E = (
      await ok(w, "bob", [
        "rollout",
        "--artifact",
        artifact,
        "--env",
        "production",
        "--reason",
        "hotfix for checkout incident",
      ])
    ).id as string;
    // 3h on (the clock, not a sleep): B (2h) and C (30m) expire; D (4h) and the rollout (no TTL) stay.
    clock = { OPTOUT_NOW: new Date(Date.now() + 3 * HOUR).toISOString() };
    await ok(w, "carol", ["expire"]);
    const review = (p: string, id: string, verdict: string) =>
      ok(w, p, ["review", id, "--verdict", verdict, "--note", `reviewed by ${p}`]);
    await review("carol", ids.A!, "justified");
    await review("alice", ids.B!, "unjustified");
    await review("carol", ids.B!, "needs-follow-up");
    await review("bob", ids.C!, "justified");
  });
  afterAll(() => w.cleanup());

  it("--json gives the figures worked out from the records", async () => {
    const report = await ok(w, "alice", ["report", "--by", "actor"]);
    const log = (await ok(w, "alice", ["log"])).records as LedgerRecord[];
    const t = (pred: (r: LedgerRecord) => boolean) => Date.parse(log.find(pred)!.time);
    const now = Date.parse((report.window as { now: string }).now);
    const ended = (id: string, type: string) => t((r) => r.type === type && r.links.reverts === id);
    // Applied → end. A: its revert; B, C: their TTL, which came before the expire records written 3h
    // on (an override is over when its TTL says, whenever the expire record lands); D and the
    // rollout E (applied by its result) still active: to now.
    const expiry = (id: string) => {
      const r = log.find((x) => x.id === id)!;
      return Math.min(ended(id, "expire"), Date.parse(r.expiresAt!));
    };
    const active = {
      A: ended(ids.A!, "revert") - t((r) => r.id === ids.A),
      B: expiry(ids.B!) - t((r) => r.id === ids.B),
      C: expiry(ids.C!) - t((r) => r.id === ids.C),
      D: now - t((r) => r.id === ids.D),
      E: now - t((r) => r.type === "result" && r.links.intent === ids.E),
    };
    const sorted = Object.values(active).sort((a, b) => a - b);
    const longest = Object.entries(active).sort((a, b) => b[1] - a[1])[0]!;
    const total = report.total as Record<string, unknown>;
    expect(total).toEqual({
      overrides: 5,
      activeTime: {
        measured: 5,
        medianMsAppliedToEnd: sorted[2],
        longestMsAppliedToEnd: longest[1],
        longestId: ids[longest[0]],
      },
      endings: {
        revertedEarly: 1, // A
        expired: 2, // B C
        superseded: 0,
        stillActive: 2, // D E
        ended: 3,
        revertedEarlyShareOfEnded: 1 / 3,
        expiredShareOfEnded: 2 / 3,
      },
      // A, B, C; B's latest review is carol's.
      reviews: {
        reviewed: 3,
        reviewedShare: 3 / 5,
        latestVerdicts: { justified: 2, unjustified: 0, "needs-follow-up": 1 },
      },
    });
    // By actor: alice A C, bob B E, carol D.
    const groups = report.groups as { key: string; overrides: number; endings: Record<string, number> }[];
    expect(groups.map((g) => [g.key, g.overrides, g.endings.revertedEarly, g.endings.expired])).toEqual([
      ["alice", 2, 1, 1],
      ["bob", 2, 0, 1],
      ["carol", 1, 0, 0],
    ]);
    expect(report.topReasons).toEqual([
      { reason: "linter crashes on node 22", overrides: 2 },
      { reason: longReason.toLowerCase(), overrides: 1 },
      { reason: "e2e flaky on chrome again", overrides: 1 },
      { reason: "hotfix for checkout incident", overrides: 1 },
    ]);
    expect(report.mostWaivedStages).toEqual([
      { stage: "lint", skips: 2 },
      { stage: "e2e", skips: 1 },
    ]);
    // The clock stands 3h after the setup: 4h back takes in every override.
    const byType = (await ok(w, "alice", ["report", "--since", "4h"])).groups as { key: string }[];
    expect(byType.map((g) => g.key)).toEqual(["skip", "flag", "rollout"]);
    const future = await ok(w, "alice", ["report", "--since", "2099-01-01", "--until", "2099-02-01"]);
    expect((future.total as { overrides: number }).overrides).toBe(0);
  });

  it("the terminal report fits 80 columns, with Unicode bars or pure ASCII", async () => {
    for (const by of ["type", "actor", "stage", "env"]) {
      const utf8 = await w.run("alice", ["report", "--by", by], { env: { ...clock, LANG: "en_US.UTF-8" } });
      expect(utf8.code, utf8.stderr).toBe(0);
      expect(Math.max(...columns(utf8.stdout))).toBeLessThanOrEqual(80);
      expect(utf8.stdout).toMatch(/[█▏▎▍▌▋▊▉]/);
      expect(utf8.stdout).not.toMatch(/\u001b/); // NO_COLOR
      const asciiEnvs: Record<string, string>[] = [
        { LANG: "en_US.UTF-8", OPTOUT_ASCII: "1" },
        { LANG: "C" },
        {},
      ];
      for (const env of asciiEnvs) {
        const ascii = await w.run("alice", ["report", "--by", by], { env: { ...clock, ...env } });
        expect(ascii.code, ascii.stderr).toBe(0);
        expect(Math.max(...columns(ascii.stdout))).toBeLessThanOrEqual(80);
        expect(ascii.stdout).toMatch(/^[\x00-\x7f]*$/);
        expect(ascii.stdout).toMatch(/#/);
      }
    }
    const text = (await w.run("alice", ["report"], { env: { ...clock, LC_ALL: "C.UTF-8" } })).stdout;
    expect(text).toMatch(/^ {2}overrides {5}5$/m);
    expect(text).toMatch(/^ {2}reviewed {6}3 of 5 \(60%\)$/m);
    expect(text).toMatch(/^ {2}ended {9}3: 1 reverted early \(33%\), 2 expired \(67%\), 0 superseded$/m);
    expect(text).toMatch(/^ {2}skip +3 {2}█{12} {2}/m);
    // Colour never costs columns.
    const colour = await w.run("alice", ["report"], {
      env: { ...clock, LANG: "C.UTF-8", NO_COLOR: "", FORCE_COLOR: "1" },
    });
    expect(colour.stdout).toMatch(/\u001b\[/);
    expect(Math.max(...columns(colour.stdout))).toBeLessThanOrEqual(80);
  });

  it("--format markdown renders GitHub tables for a post-incident document", async () => {
    const r = await w.run("alice", ["report", "--format", "markdown", "--by", "stage"], { env: clock });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    const head = lines.indexOf(
      "| stage | overrides | median active | longest active | reverted early | expired | reviewed |",
    );
    expect(head).toBeGreaterThan(0);
    expect(lines[head + 1]).toBe("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    expect(lines[head + 2]).toMatch(/^\| - \| 2 \| /); // the flag and the rollout have no stage
    expect(lines).toContain("| overrides | 5 |");
    expect(lines).toContain("| reviewed | 3 of 5 (60%) |");
    expect(lines).toContain("| linter crashes on node 22 | 2 |");
    const both = await w.run("alice", ["report", "--format", "markdown", "--json"], { env: clock });
    expect(both.code).toBe(2);
  });
});
