/**
 * Rollouts as workflow dispatches: return_run_details, the fallbacks for servers that lack it,
 * --wait to success and failure, revert rolling the previous artifact out again.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { runRevert } from "../../src/commands/revert/run.js";
import { runRollout } from "../../src/commands/rollout/run.js";
import type { FakeRepo } from "../fakes/github/state.js";
import { artifact, useHarness } from "./harness.js";

const h = useHarness();
let repo: FakeRepo;
beforeEach(() => {
  repo = h.repo();
  repo.addWorkflow("deploy.yml", {
    inputs: ["artifact", "environment", "skip", "optout_record"],
    runName: (i) => `deploy ${i.environment} (${i.optout_record})`,
  });
});

const reason = "hotfix for the checkout crash, INC-9";

async function rollout(o: { env: string; n: number; wait?: boolean; skip?: string }) {
  const { f, out } = h.factory("alice", { json: true });
  await runRollout(f, { artifact: artifact(o.n), env: o.env, reason, wait: o.wait, skip: o.skip });
  return { doc: JSON.parse(out.stdout), out };
}

describe("rollout", () => {
  it("dispatches deploy.yml on the default branch with the record id, and gets the run back (200)", async () => {
    repo.addDeployment("production", { artifact: artifact(1) }, ["success"]);
    const { doc } = await rollout({ env: "production", n: 2, skip: "e2e" });
    const run = repo.runs[0]!;
    expect(run.inputs).toEqual({
      artifact: artifact(2),
      environment: "production",
      skip: "e2e",
      optout_record: doc.id,
    });
    expect(run.branch).toBe("main");
    expect(doc.record.before).toEqual({ artifact: artifact(1) });
    expect(doc.result.after).toEqual({
      artifact: artifact(2),
      run: { id: run.id, url: `https://github.com/acme/shop/actions/runs/${run.id}`, conclusion: null },
    });
    expect(h.fake.lines()).toEqual([
      "GET /user",
      "GET /repos/acme/shop",
      "GET /repos/acme/shop/deployments",
      `GET /repos/acme/shop/deployments/${repo.deployments[0]!.id}/statuses`,
      "POST /repos/acme/shop/actions/workflows/deploy.yml/dispatches",
    ]);
    expect(h.fake.requests.at(-1)?.body).toMatchObject({ ref: "main", return_run_details: true });
  });

  it("finds the run by its record id when GitHub answers 204 (no run details)", async () => {
    repo.dispatchMode = "ignore-details";
    repo.workflows.get("deploy.yml")!.listDelay = 2;
    const { doc } = await rollout({ env: "staging", n: 3 });
    const run = repo.runs[0]!;
    expect(doc.result.after.run).toMatchObject({ id: run.id });
    // The new run is not listed at once: the list is polled until it shows.
    expect(h.fake.count("GET", "/repos/acme/shop/actions/workflows/deploy.yml/runs")).toBe(3);
    const list = h.fake.requests.find((r) => r.path.endsWith("/runs"))!;
    expect(new URLSearchParams(list.query).get("event")).toBe("workflow_dispatch");
    expect(new URLSearchParams(list.query).get("created")).toMatch(/^>=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it("dispatches again without return_run_details when an older server refuses it (422)", async () => {
    repo.dispatchMode = "reject-details";
    const { doc } = await rollout({ env: "staging", n: 4 });
    const posts = h.fake.requests.filter((r) => r.method === "POST");
    expect(posts.map((p) => p.status)).toEqual([422, 204]);
    expect(posts[1]!.body).not.toHaveProperty("return_run_details");
    expect(repo.runs).toHaveLength(1);
    expect(doc.result.after.run.id).toBe(repo.runs[0]!.id);
  });

  it("--wait follows the run to success, telling the spinner", async () => {
    const { doc, out } = await rollout({ env: "staging", n: 5, wait: true });
    expect(doc.result.after.run).toMatchObject({ conclusion: "success" });
    expect(out.progress.some((p) => /run \d+ (queued|in_progress)/.test(p))).toBe(true);
  });

  it("--wait on a failing run fails with the run's URL, and records the failure", async () => {
    repo.workflows.get("deploy.yml")!.conclusion = "failure";
    const { f } = h.factory("alice", { json: true });
    const err = await runRollout(f, { artifact: artifact(6), env: "staging", reason, wait: true }).catch(
      (e) => e,
    );
    expect(err).toMatchObject({ exitCode: 1 });
    expect(err.message).toMatch(
      /^rollout of .* to staging: the run ended failure: https:\/\/github\.com\/acme\/shop\/actions\/runs\/\d+$/,
    );
    expect(await h.auditText()).toContain('"outcome":"failed"');
  });

  it("a 502 on the dispatch is not retried (a deployment must not start twice)", async () => {
    h.fake.fail("POST", "/repos/acme/shop/actions/workflows/deploy.yml/dispatches", { status: 502 });
    const { f } = h.factory("alice");
    await expect(runRollout(f, { artifact: artifact(7), env: "staging", reason })).rejects.toMatchObject({
      message:
        "GitHub failed: POST /repos/acme/shop/actions/workflows/deploy.yml/dispatches answered 502 (1 attempt)",
    });
    expect(h.fake.count("POST")).toBe(1);
    // It looked for a run that might have started anyway before giving up.
    expect(h.fake.count("GET", "/repos/acme/shop/actions/workflows/deploy.yml/runs")).toBeGreaterThan(0);
  });

  it("a dispatch that landed but whose answer was lost (502) is found, not dispatched twice", async () => {
    h.fake.fail("POST", "/repos/acme/shop/actions/workflows/deploy.yml/dispatches", {
      status: 502,
      afterHandling: true,
    });
    const { doc } = await rollout({ env: "staging", n: 7 });
    expect(h.fake.count("POST")).toBe(1);
    expect(repo.runs).toHaveLength(1);
    expect(doc.result.after.run.id).toBe(repo.runs[0]!.id);
  });

  it("revert rolls the previous artifact out again, and the ledger then says it is current", async () => {
    const first = await rollout({ env: "production", n: 8 });
    expect(first.doc.record.before).toEqual({ artifact: null });
    // The ledger's active rollout is what is deployed now.
    const second = await rollout({ env: "production", n: 9 });
    expect(second.doc.record.before).toEqual({ artifact: artifact(8) });
    expect(h.fake.count("GET", "/repos/acme/shop/deployments")).toBe(1);

    const { f } = h.factory("alice");
    await runRevert(f, { id: second.doc.id, reason: "nine is broken, back to eight" });
    expect(repo.runs[0]!.inputs).toMatchObject({
      artifact: artifact(8),
      environment: "production",
      skip: "",
    });

    // The revert made eight current; its own before (nine) is what a revert of it would restore.
    const state = await (await h.factory("alice").f.ledger()).current();
    const active = state.index.active.find((e) => e.op === "rollout" && e.target.env === "production")!;
    expect(active.after).toMatchObject({ artifact: artifact(8) });
  });

  it("refuses to revert a rollout with no known previous artifact", async () => {
    const { doc } = await rollout({ env: "staging", n: 1 });
    expect(doc.record.before).toEqual({ artifact: null });
    await expect(runRevert(h.factory("alice").f, { id: doc.id, reason: "x" })).rejects.toMatchObject({
      exitCode: 2,
      message: `nothing to roll back to: no artifact was known on staging before ${doc.id}`,
    });
    expect(h.fake.count("POST")).toBe(1);
  });
});
