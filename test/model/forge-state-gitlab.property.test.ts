/**
 * The GitLab half of forge-state.property.test.ts: the same random sequences of skips (status and
 * variable mechanisms), flag set/unset, reverts, clock steps and expiries, run in process through
 * the Factory's provider and flow dependencies (core/flow.ts, as the commands run it) against the
 * GitLab fake. After every step, the fake's commit statuses for the skipped contexts and its CI/CD
 * variables must equal what the evaluator says is in force (forge-state.ts). One ledger for every
 * sequence: each ends by reverting whatever is still in force, after which the fake must hold
 * what it held before optout. The clock is injected (OPTOUT_NOW).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LedgerView } from "../../src/core/state.js";
import { Factory } from "../../src/factory.js";
import { IO } from "../../src/ui/io.js";
import { gitlabPolicy, sha1, useGitLabWorld } from "../gitlab/harness.js";
import {
  expectInForce,
  type ForgeState,
  flagTargets,
  H,
  overridable,
  readerOf,
  runOptions,
  type Status,
  sequence,
  start,
  values,
  variables,
} from "./forge-state.js";

// bob: maintainer (GitLab's CI/CD variables need it), in acme/oncall.
const g = useGitLabWorld({ policy: gitlabPolicy(overridable(["oncall"])) });

describe("the GitLab fake holds what the evaluator says is in force", () => {
  it("after every step of random skip / flag set / unset / revert / expire sequences", async () => {
    const project = () => g.gl.project("acme/shop")!;
    const lintBefore: Status = {
      state: "failed",
      description: "3 lint errors",
      targetUrl: "https://ci.example.com/jobs/9",
    };
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
      if (v.before !== null) {
        g.gl.setVariable("acme/shop", v.name, v.before, v.env ? { environment_scope: v.env } : {});
      }
    }
    const forge: ForgeState = {
      status: (context) => {
        const s = project()
          .statuses.filter((x) => x.sha === sha1 && x.name === context)
          .at(-1);
        return s && { state: s.status, description: s.description, targetUrl: s.target_url };
      },
      variable: (name, env) =>
        project().variables.find((x) => x.key === name && x.environment_scope === (env ?? "*"))?.value ??
        null,
      lintBefore,
      placeholder: /^optout waiver \w+ ended; waiting for ci\/e2e to report$/,
    };

    // One ledger for all sequences, so one clock that only moves forward.
    let clock = start;
    const session = () => g.as("bob", { env: { OPTOUT_NOW: new Date(clock).toISOString() } });
    const env = { ...g.w.env("bob"), CI_SERVER_URL: g.gl.url };
    const globals = { json: false, yes: true, dryRun: false, verbose: false };
    const sink = { write: () => {} };
    const io = new IO({ stdout: sink, stderr: sink, stdin: {} }, env, globals);
    const read = await readerOf(new Factory(globals, io, env, g.w.work), g.w.remote);
    let last!: LedgerView;
    const check = async (step: string) => {
      last = await read(clock);
      expectInForce(last, forge, step);
    };
    /** What is in force now, as the last check read it (nothing has been written since). */
    const now = () => new LedgerView(last.ev, clock);

    let steps = 0;
    await check("start");
    await fc.assert(
      fc.asyncProperty(sequence, async (actions) => {
        for (const [i, a] of actions.entries()) {
          const step = `step ${i + 1} ${JSON.stringify(a)}`;
          switch (a.k) {
            case "skip":
              await (await session()).skip(a.stage, { ref: "main", ttlMs: a.ttlH * H });
              break;
            case "set": {
              // The harness sets flags for the policy's default TTL (4h).
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
        // The next sequence starts with nothing in force: revert what is left; the fake must
        // then hold what it held before optout.
        for (const o of now().active()) {
          await (await session()).revert(o.id);
          await check(`cleanup: revert ${o.op} ${o.id}`);
        }
        expect(now().active()).toEqual([]);
        clock += H;
      }),
      runOptions([
        [
          { k: "set", t: 0, v: 0, ttlH: 4 },
          { k: "tick", ms: 5 * H },
          { k: "unset", t: 0 },
        ],
      ]),
    );
    expect(steps).toBeGreaterThan(0);
  }, 600_000);
});
