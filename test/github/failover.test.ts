/** Failover: the policy's variable (environment level) set to the new target, then the failover workflow. */
import { beforeEach, describe, expect, it } from "vitest";
import { runFailover } from "../../src/commands/failover/run.js";
import { runRevert } from "../../src/commands/revert/run.js";
import { UnknownOutcomeError } from "../../src/errors.js";
import type { FakeRepo } from "../fakes/github/state.js";
import { useHarness } from "./harness.js";

const h = useHarness();
let repo: FakeRepo;
beforeEach(() => {
  repo = h.repo();
  repo.addWorkflow("failover.yml", {
    inputs: ["target", "environment", "optout_record"],
    runName: (i) => `failover to ${i.target} (${i.optout_record})`,
  });
  repo.setVariable("ACTIVE_REGION", "us-east-1", "production");
});

const reason = "us-east-1 is down, failing over (INC-31)";

async function failover(to: string, wait = false) {
  const { f, out } = h.factory("alice", { json: true });
  await runFailover(f, { to, env: "production", reason, wait });
  return JSON.parse(out.stdout);
}

describe("failover", () => {
  it("sets the environment variable, then dispatches the failover workflow; revert fails back", async () => {
    const doc = await failover("eu-west-1", true);
    expect(repo.variable("ACTIVE_REGION", "production")).toBe("eu-west-1");
    expect(repo.runs[0]!.inputs).toEqual({
      target: "eu-west-1",
      environment: "production",
      optout_record: doc.id,
    });
    expect(doc.record.before).toEqual({ target: "us-east-1" });
    expect(doc.result.after).toMatchObject({ target: "eu-west-1", run: { conclusion: "success" } });
    expect(h.fake.lines().slice(0, 4)).toEqual([
      "GET /user",
      "GET /repos/acme/shop/environments/production/variables/ACTIVE_REGION",
      "PATCH /repos/acme/shop/environments/production/variables/ACTIVE_REGION",
      "POST /repos/acme/shop/actions/workflows/failover.yml/dispatches",
    ]);

    await runRevert(h.factory("alice").f, { id: doc.id, reason: "us-east-1 is back" });
    expect(repo.variable("ACTIVE_REGION", "production")).toBe("us-east-1");
    expect(repo.runs[0]!.inputs).toMatchObject({ target: "us-east-1", environment: "production" });
    expect(repo.runs).toHaveLength(2);
  });

  it("puts the variable back when the workflow cannot be dispatched", async () => {
    h.fake.fail("POST", "/repos/acme/shop/actions/workflows/failover.yml/dispatches", { status: 403 });
    const err = await failover("eu-west-1").catch((e) => e);
    expect(err).toMatchObject({ exitCode: 3 });
    expect(err.message).toBe(
      'GitHub refused: token lacks permission to dispatch workflows on acme/shop (403); ACTIVE_REGION was set back to "us-east-1"',
    );
    expect(repo.variable("ACTIVE_REGION", "production")).toBe("us-east-1");
    expect(await h.auditText()).toContain('"outcome":"failed"');
  });

  it("leaves the variable set when GitHub accepted the dispatch but the run cannot be listed (503)", async () => {
    // Enterprise Server: 204 on the dispatch, then the run list fails. A run that read the new
    // target may be going: resetting the variable under it would be a guess.
    repo.dispatchMode = "ignore-details";
    h.fake.fail("GET", "/repos/acme/shop/actions/workflows/failover.yml/runs", { status: 503, times: 20 });
    const { f } = h.factory("alice", { json: true, retry: { budgetMs: 2_000, maxAttempts: 2 } });
    const err = await runFailover(f, { to: "eu-west-1", env: "production", reason }).catch((e) => e);
    expect(err).toBeInstanceOf(UnknownOutcomeError);
    expect(err.message).not.toMatch(/set back/);
    expect(repo.variable("ACTIVE_REGION", "production")).toBe("eu-west-1");
    expect(repo.runs).toHaveLength(1);
  });

  it("--dry-run reads the current target and lists the two writes it would make", async () => {
    const { f, out } = h.factory("alice", { dryRun: true });
    await runFailover(f, { to: "eu-west-1", env: "production", reason });
    expect(h.fake.requests.every((r) => r.method === "GET")).toBe(true);
    expect(out.stdout).toContain("PATCH /repos/acme/shop/environments/production/variables/ACTIVE_REGION");
    expect(out.stdout).toContain(
      "POST /repos/acme/shop/actions/workflows/failover.yml/dispatches (ref main;",
    );
    expect(out.stderr).toContain(
      'will set Actions variable ACTIVE_REGION on environment production to "eu-west-1" (now "us-east-1")',
    );
  });
});
