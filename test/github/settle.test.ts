/**
 * Crash recovery and interruption: `settle` reads from GitHub whether an intent took effect (by
 * the record id it leaves in a status link or a run name); a Ctrl-C signal stops apply at once.
 */
import { beforeEach, describe, expect, it, vi } from "vitest";
import { runFailover } from "../../src/commands/failover/run.js";
import { runFlagSet } from "../../src/commands/flag/run.js";
import { runRollout } from "../../src/commands/rollout/run.js";
import { runSkip } from "../../src/commands/skip/run.js";
import { targetView } from "../../src/core/flow.js";
import type { LedgerRecord } from "../../src/core/record.js";
import { ulid } from "../../src/ledger/ulid.js";
import type { FakeRepo } from "../fakes/github/state.js";
import { artifact, type Harness, useHarness } from "./harness.js";

const h = useHarness();
let repo: FakeRepo;
beforeEach(() => {
  repo = h.repo();
  repo.addWorkflow("deploy.yml", {
    inputs: ["artifact", "environment", "skip", "optout_record"],
    runName: (i) => `deploy (${i.optout_record})`,
    progression: Array(1000).fill("in_progress"),
  });
});

const reason = "checking recovery after a crash";

/** The intent record a command wrote, and one like it that never reached GitHub. */
async function intents(run: (f: ReturnType<Harness["factory"]>["f"]) => Promise<void>) {
  const { f, out } = h.factory("alice", { json: true });
  await run(f);
  const record = JSON.parse(out.stdout).record as LedgerRecord;
  return { landed: record, lost: { ...record, id: ulid(Date.now()) } };
}

describe("settle", () => {
  it("a status waiver is recognised by its link to the record", async () => {
    const { landed, lost } = await intents((f) => runSkip(f, { stage: "lint", ref: "main", reason }));
    const p = await h.factory("alice").f.github();
    expect(await p.settle(landed)).toMatchObject({ applied: true, after: { state: "success" } });
    expect(await p.settle(lost)).toEqual({ applied: false, after: null });
  });

  it("a flag by its value", async () => {
    repo.environment("production");
    const { landed } = await intents((f) =>
      runFlagSet(f, { name: "DEPLOY_FREEZE_BYPASS", env: "production", value: "true", reason }),
    );
    const p = await h.factory("alice").f.github();
    expect(await p.settle(landed)).toEqual({ applied: true, after: { value: "true" } });
    repo.setVariable("DEPLOY_FREEZE_BYPASS", "false", "production");
    expect(await p.settle(landed)).toEqual({ applied: false, after: { value: "false" } });
  });

  it("a rollout by the run carrying the record id", async () => {
    const { landed, lost } = await intents((f) =>
      runRollout(f, { artifact: artifact(1), env: "staging", reason }),
    );
    const p = await h.factory("alice").f.github();
    expect(await p.settle(landed)).toMatchObject({ applied: true, after: { run: { id: repo.runs[0]!.id } } });
    // No run carries that id: undispatched, or a run-name without the id — unknown, not "failed".
    expect(await p.settle(lost)).toBeUndefined();
  });
});

describe("settle a failover", () => {
  it("by the variable, then the run", async () => {
    repo.addWorkflow("failover.yml", {
      inputs: ["target", "environment", "optout_record"],
      runName: (i) => `failover (${i.optout_record})`,
    });
    repo.setVariable("ACTIVE_REGION", "us-east-1", "production");
    const { landed, lost } = await intents((f) =>
      runFailover(f, { to: "eu-west-1", env: "production", reason }),
    );
    const p = await h.factory("alice").f.github();
    expect(await p.settle(landed)).toMatchObject({ applied: true, after: { target: "eu-west-1" } });
    // The variable is at the target but no run carries this id: cannot tell.
    expect(await p.settle(lost)).toBeUndefined();
    repo.setVariable("ACTIVE_REGION", "us-east-1", "production");
    expect(await p.settle(landed)).toEqual({ applied: false, after: { target: "us-east-1" } });
  });
});

describe("interruption", () => {
  it("aborting the signal stops a --wait at once", async () => {
    // Polls ten minutes apart: a wait that did not end on the signal would outlast the test's
    // timeout, so the verdict does not depend on how fast this machine is.
    const { f } = h.factory("alice", { env: { OPTOUT_POLL_INTERVAL_MS: "600000" } });
    const p = await f.github();
    const spec = {
      op: "rollout" as const,
      target: { env: "staging", artifact: artifact(2) },
      mechanism: "dispatch",
      params: { wait: "true" },
      expiresAt: null,
    };
    const plan = await p.plan(spec, targetView(await (await f.ledger()).current(), "rollout", spec.target));
    const record = { id: ulid(Date.now()), reason } as LedgerRecord;
    const ac = new AbortController();
    const applying = p.apply(spec, plan, record, ac.signal);
    await vi.waitFor(() => expect(h.fake.count("GET", "/repos/acme/shop/actions/runs/")).toBeGreaterThan(0), {
      timeout: 60_000,
    });
    const polls = h.fake.count("GET", "/repos/acme/shop/actions/runs/");
    ac.abort(new Error("interrupted"));
    await expect(applying).rejects.toThrow();
    expect(h.fake.count("GET", "/repos/acme/shop/actions/runs/")).toBeLessThanOrEqual(polls + 1);
  });
});
