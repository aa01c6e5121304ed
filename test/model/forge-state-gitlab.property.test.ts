/**
 * The GitLab half of forge-state.property.test.ts: random short sequences of skips (status and
 * variable mechanisms), flag set/unset, reverts, clock steps and expiries, run in process through
 * the Factory's provider and flow dependencies (core/flow.ts, as the commands run it) against the
 * GitLab fake. After every step, the fake's commit statuses for the skipped contexts and its CI/CD
 * variables must equal what the evaluator says is in force: the override's value while one is
 * active (or due, until expire restores), else the baseline from before optout. One ledger for
 * every sequence: each ends by reverting whatever is still in force, and the fake must then hold
 * what it held before optout. The clock is injected (OPTOUT_NOW). 25 sequences by default;
 * OPTOUT_FORGE_PROPERTY_RUNS runs more, OPTOUT_PROPERTY_SEED replays a failure's seed.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LedgerView, type TargetState } from "../../src/core/state.js";
import { Factory } from "../../src/factory.js";
import { evaluateLedger } from "../../src/ledger/evaluate.js";
import { IO } from "../../src/ui/io.js";
import { gitlabPolicy, sha1, useGitLabWorld } from "../gitlab/harness.js";
import { git } from "../helpers/world.js";

const H = 3_600_000;

const g = useGitLabWorld({
  policy: gitlabPolicy({
    stages: {
      lint: { mechanism: "status", context: "ci/lint", allow: ["oncall"] },
      e2e: { mechanism: "status", context: "ci/e2e", allow: ["oncall"] },
      scan: { mechanism: "variable", variable: "OPTOUT_SKIP_SCAN", allow: ["oncall"] },
    },
    flags: {
      MAINT: { values: ["on", "off"], allow: ["oncall"] },
      DEPLOY_TARGET: {
        values: ["blue", "green"],
        environments: ["staging", "production"],
        allow: ["oncall"],
      },
    },
  }),
});

/** What the fake held before optout: a failed ci/lint, no ci/e2e; variables as below. */
const lintBefore = {
  state: "failed",
  description: "3 lint errors",
  targetUrl: "https://ci.example.com/jobs/9",
};
const statusStages = [
  { stage: "lint", context: "ci/lint", before: lintBefore },
  { stage: "e2e", context: "ci/e2e", before: null },
] as const;
const variables = [
  { op: "skip", stage: "scan", name: "OPTOUT_SKIP_SCAN", env: null, before: "false" },
  { op: "flag", flag: "MAINT", name: "MAINT", env: null, before: null },
  { op: "flag", flag: "DEPLOY_TARGET", name: "DEPLOY_TARGET", env: "production", before: "green" },
  { op: "flag", flag: "DEPLOY_TARGET", name: "DEPLOY_TARGET", env: "staging", before: null },
] as const;
const flagTargets = variables.filter((v) => v.op === "flag");
const values: Record<string, readonly string[]> = { MAINT: ["on", "off"], DEPLOY_TARGET: ["blue", "green"] };

type Action =
  | { k: "skip"; stage: "lint" | "e2e" | "scan"; ttlH: number }
  | { k: "set"; t: number; v: number }
  | { k: "unset"; t: number }
  | { k: "revert"; pick: number }
  | { k: "tick"; ms: number }
  | { k: "expire" };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({
    k: fc.constant("skip" as const),
    stage: fc.constantFrom("lint", "e2e", "scan"),
    ttlH: fc.constantFrom(1, 2, 4),
  }),
  fc.record({ k: fc.constant("set" as const), t: fc.nat(2), v: fc.nat(1) }),
  fc.record({ k: fc.constant("unset" as const), t: fc.nat(2) }),
  fc.record({ k: fc.constant("revert" as const), pick: fc.nat(7) }),
  fc.record({ k: fc.constant("tick" as const), ms: fc.integer({ min: 10 * 60_000, max: 5 * H }) }),
  fc.constant({ k: "expire" as const }),
);

describe("the GitLab fake holds what the evaluator says is in force", () => {
  it("after every step of random skip / flag set / unset / revert / expire sequences", async () => {
    const runs = Number(process.env.OPTOUT_FORGE_PROPERTY_RUNS) || 25;
    const seed = process.env.OPTOUT_PROPERTY_SEED ? Number(process.env.OPTOUT_PROPERTY_SEED) : undefined;
    const project = () => g.gl.project("acme/shop")!;
    project().statuses.push({
      id: g.gl.id(),
      sha: sha1,
      ref: "main",
      name: "ci/lint",
      status: lintBefore.state,
      description: lintBefore.description,
      target_url: lintBefore.targetUrl,
      userId: g.gl.user("carol").id,
    });
    for (const v of variables) {
      if (v.before !== null)
        g.gl.setVariable("acme/shop", v.name, v.before, v.env ? { environment_scope: v.env } : {});
    }
    // One ledger for all sequences, so one clock that only moves forward.
    let clock = Date.parse("2026-12-08T08:00:00Z");
    const env = () => ({ OPTOUT_NOW: new Date(clock).toISOString() });
    const session = () => g.as("bob", { env: env() });

    // The ledger's configuration, the policy in force and allowed_signers, read once as a command reads them.
    const readerEnv = { ...g.w.env("bob"), CI_SERVER_URL: g.gl.url };
    const globals = { json: false, yes: true, dryRun: false, verbose: false };
    const sink = { write: () => {} };
    const rf = new Factory(
      globals,
      new IO({ stdout: sink, stderr: sink, stdin: {} }, readerEnv, globals),
      readerEnv,
      g.w.work,
    );
    const [store, policy, repo, trust] = await Promise.all([
      rf.ledgerStore(),
      rf.policy(),
      rf.repoName(),
      rf.trust(),
    ]);

    /** The evaluator over the audit branch as the remote holds it, under the policy in force, now. */
    const view = async () => {
      const tip = await git(
        g.w.remote,
        "rev-parse",
        "-q",
        "--verify",
        `refs/heads/${policy.audit.branch}`,
      ).catch(() => undefined);
      return new LedgerView(
        await evaluateLedger(store.cfg, tip?.trim() || undefined, policy, repo, trust.signers),
        clock,
      );
    };
    let last: LedgerView | undefined;
    /** The evaluator as the last check read it (nothing has been written since), at the clock's time. */
    const now = () => new LedgerView(last!.ev, clock);

    const check = async (step: string) => {
      const v = await view();
      last = v;
      const states = [...v.ev.targets.values()];
      const find = (op: string, match: (s: TargetState) => boolean) => {
        const s = states.filter((x) => x.op === op && match(x));
        expect(s.length, `${step}: one target state`).toBeLessThanOrEqual(1);
        return s[0] ? { state: s[0], active: v.target(s[0].key).active } : undefined;
      };
      for (const st of statusStages) {
        const t = find("skip", (s) => s.target.stage === st.stage);
        const s = project()
          .statuses.filter((x) => x.sha === sha1 && x.name === st.context)
          .at(-1);
        const latest = s && { state: s.status, description: s.description, targetUrl: s.target_url };
        const where = `${step}: ${st.context} (${JSON.stringify(latest)})`;
        if (t?.active) {
          expect(latest?.state, where).toBe("success");
          expect(latest?.targetUrl, where).toContain(t.active.id);
          const baseline = t.active.baseline as { state: string; description?: string } | null;
          // GitLab cannot delete a status: after a revert, optout's pending stands for the absence,
          // and a later skip may find it as its before.
          if (st.before === null && baseline !== null) {
            expect(baseline.state, where).toBe("pending");
            expect(baseline.description, where).toMatch(/^optout waiver \w+ ended/);
          } else expect(baseline, `${where}: the evaluator's baseline`).toEqual(st.before);
          continue;
        }
        if (st.before === null) {
          if (latest) expect(latest.state, where).toBe("pending");
        } else expect(latest, where).toEqual(st.before);
      }
      for (const va of variables) {
        const t =
          va.op === "skip"
            ? find("skip", (s) => s.target.stage === va.stage)
            : find("flag", (s) => s.target.flag === va.flag && (s.target.env ?? null) === va.env);
        const held = project().variables.find(
          (x) => x.key === va.name && x.environment_scope === (va.env ?? "*"),
        );
        const where = `${step}: ${va.name}${va.env ? `@${va.env}` : ""}`;
        if (t?.active) {
          expect(held?.value ?? null, where).toBe((t.active.after as { value: string | null }).value);
          expect(
            (t.active.baseline as { value: string | null }).value,
            `${where}: the evaluator's baseline`,
          ).toBe(va.before);
          continue;
        }
        expect(held?.value ?? null, where).toBe(va.before);
      }
    };

    let steps = 0;
    await check("start");
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 8 }), async (actions) => {
        for (const [i, a] of actions.entries()) {
          const step = `step ${i + 1} ${JSON.stringify(a)}`;
          switch (a.k) {
            case "skip":
              await (await session()).skip(a.stage, { ref: "main", ttlMs: a.ttlH * H });
              break;
            case "set": {
              const t = flagTargets[a.t]!;
              await (await session()).flag(t.flag, values[t.flag]![a.v]!, t.env);
              break;
            }
            case "unset": {
              const t = flagTargets[a.t]!;
              const on = now()
                .active()
                .some((o) => o.op === "flag" && o.target.flag === t.flag && (o.target.env ?? null) === t.env);
              if (!on) continue;
              await (await session()).flag(t.flag, null, t.env);
              break;
            }
            case "revert": {
              const active = now().active();
              if (active.length === 0) continue;
              await (await session()).revert(active[a.pick % active.length]!.id);
              break;
            }
            case "tick":
              clock += a.ms;
              break;
            case "expire":
              // What `optout expire` ends: every override whose TTL has passed, oldest first.
              for (const o of now().expired()) await (await session()).expire(o.id);
              break;
          }
          steps++;
          await check(step);
        }
        // The next sequence starts from nothing in force: revert what is left, then the fake
        // must hold what it held before optout.
        for (const o of now().active()) {
          await (await session()).revert(o.id);
          await check(`cleanup revert ${o.op} ${o.id}`);
        }
        expect(now().active()).toEqual([]);
        clock += H;
      }),
      { numRuns: runs, ...(seed !== undefined ? { seed } : {}), endOnFailure: true },
    );
    expect(steps).toBeGreaterThan(0);
  }, 600_000);
});
