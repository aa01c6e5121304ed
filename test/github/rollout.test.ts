/**
 * Rollouts as workflow dispatches: return_run_details, the fallbacks for servers that lack it,
 * --wait to success and failure, revert rolling the previous artifact out again.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { runRevert } from "../../src/commands/revert/run.js";
import { runRollout } from "../../src/commands/rollout/run.js";
import { UnknownOutcomeError } from "../../src/errors.js";
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

async function rollout(o: { env: string; n: number; wait?: boolean; skip?: string; timeout?: string }) {
  const { f, out } = h.factory("alice", { json: true });
  await runRollout(f, {
    artifact: artifact(o.n),
    env: o.env,
    reason,
    wait: o.wait,
    skip: o.skip,
    ...(o.timeout ? { timeout: o.timeout } : {}),
  });
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
    // Recent runs are picked on created_at here: `created` takes a date-time, not `>=…`.
    expect(new URLSearchParams(list.query).has("created")).toBe(false);
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
    const { doc, out } = await rollout({ env: "staging", n: 5, wait: true, timeout: "30s" });
    expect(doc.result.after.run).toMatchObject({ conclusion: "success" });
    // The limit as given, not rounded to minutes.
    expect(doc.plan).toContain("will wait for the run (up to 30s)");
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

  it("a 502 on the dispatch is not retried (a deployment must not start twice), and is not a failure", async () => {
    h.fake.fail("POST", "/repos/acme/shop/actions/workflows/deploy.yml/dispatches", { status: 502 });
    const { f } = h.factory("alice");
    const err = await runRollout(f, { artifact: artifact(7), env: "staging", reason }).catch((e) => e);
    // GitHub may have started a run: the outcome is unknown until `optout sync` reads it.
    expect(err).toBeInstanceOf(UnknownOutcomeError);
    expect(err.message).toMatch(
      /^GitHub did not confirm the dispatch of deploy\.yml \(GitHub failed: POST \/repos\/acme\/shop\/actions\/workflows\/deploy\.yml\/dispatches answered 502 \(1 attempt\)\), and no run for [0-9A-Z]{26} is listed yet$/,
    );
    expect(err.hint).toContain("optout sync");
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

  it("a run GitHub accepted (204) that Enterprise Server cannot list (503) is unknown, not failed", async () => {
    repo.dispatchMode = "ignore-details";
    h.fake.fail("GET", "/repos/acme/shop/actions/workflows/deploy.yml/runs", { status: 503, times: 20 });
    const { f } = h.factory("alice", { retry: { budgetMs: 2_000, maxAttempts: 2 } });
    const err = await runRollout(f, { artifact: artifact(3), env: "staging", reason }).catch((e) => e);
    expect(err).toBeInstanceOf(UnknownOutcomeError);
    expect(err.message).toMatch(
      /^GitHub accepted the dispatch of deploy\.yml, but listing its runs failed \(GitHub failed: GET .* answered 503/,
    );
    expect(repo.runs).toHaveLength(1);
  });

  it("--wait that runs out is unknown, not failed: the run may still finish", async () => {
    repo.workflows.get("deploy.yml")!.progression = Array(500).fill("in_progress");
    const { f } = h.factory("alice");
    const err = await runRollout(f, {
      artifact: artifact(5),
      env: "staging",
      reason,
      wait: true,
      timeout: "1s",
    }).catch((e) => e);
    expect(err).toBeInstanceOf(UnknownOutcomeError);
    expect(err.message).toMatch(
      /^rollout of .* to staging: the run did not finish within 1s: https:\/\/github\.com\/acme\/shop\/actions\/runs\/\d+$/,
    );
  });

  it("--wait says whose review the run waits for, instead of 'in progress'", async () => {
    const w = repo.workflows.get("deploy.yml")!;
    w.environment = { name: "production", reviewers: ["dana", "team:acme/release"] };
    w.progression = ["queued", "waiting", "waiting", "in_progress"];
    const { doc, out } = await rollout({ env: "production", n: 5, wait: true });
    expect(doc.result.after.run).toMatchObject({ conclusion: "success" });
    expect(out.progress).toContainEqual(
      expect.stringMatching(
        /: run \d+ waiting for review by @dana or team release \(environment production\) \(\d+/,
      ),
    );
    expect(out.progress.some((p) => /run \d+ in_progress/.test(p))).toBe(true);
    // Asked once while the run waited, not on every poll.
    expect(h.fake.count("GET", `/repos/acme/shop/actions/runs/${repo.runs[0]!.id}/pending_deployments`)).toBe(
      1,
    );
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
    const active = state.active().find((e) => e.op === "rollout" && e.target.env === "production")!;
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

describe("rollout --previous", () => {
  it("re-runs the run of the newest successful deployment before the newest one, recorded and revertible", async () => {
    const deploy = repo.workflows.get("deploy.yml")!;
    const good = repo.addRun(deploy, { artifact: artifact(1), environment: "production" });
    repo.addDeployment("production", { artifact: artifact(1) }, ["success"], good);
    const bad = repo.addRun(deploy, { artifact: artifact(2), environment: "production" });
    repo.addDeployment("production", { artifact: artifact(2) }, ["success"], bad);
    const [newest, older] = repo.deployments;

    const { f, out } = h.factory("alice", { json: true });
    await runRollout(f, { env: "production", previous: true, reason, wait: true });
    const doc = JSON.parse(out.stdout);
    expect(doc.record.mechanism).toBe("rerun");
    expect(doc.record.target).toEqual({ env: "production", artifact: artifact(1) });
    expect(doc.record.params).toMatchObject({ previous: String(older!.id) });
    expect(doc.record.before).toEqual({ artifact: artifact(2) });
    expect(doc.result.after).toMatchObject({
      artifact: artifact(1),
      deployment: String(older!.id),
      run: { id: good.id, conclusion: "success" },
    });
    expect(good.attempt).toBe(2);
    expect(bad.attempt).toBe(1);
    // The deployments (the newest skipped, its predecessor's status names its run; looked up once
    // for the command and its plan), identity, what is deployed now (the newest success), the
    // re-run, then one read per --wait poll.
    const lines = h.fake.lines();
    expect(lines.slice(0, 5)).toEqual([
      "GET /repos/acme/shop/deployments",
      `GET /repos/acme/shop/deployments/${older!.id}/statuses`,
      "GET /user",
      "GET /repos/acme/shop/deployments",
      `GET /repos/acme/shop/deployments/${newest!.id}/statuses`,
    ]);
    expect(lines.filter((l) => l.startsWith("POST"))).toEqual([
      `POST /repos/acme/shop/actions/runs/${good.id}/rerun`,
    ]);

    // `optout sync` can tell a re-run happened: the run started again after the intent.
    const p = await h.factory("alice").f.provider();
    const intent = { ...doc.record, id: doc.id, time: new Date(Date.now() - 1000).toISOString() };
    expect(await p.settle!(intent)).toMatchObject({
      applied: true,
      after: { deployment: String(older!.id) },
    });
    const later = { ...intent, time: new Date(Date.now() + 3_600_000).toISOString() };
    expect(await p.settle!(later)).toEqual({ applied: false, after: { artifact: artifact(2) } });

    // Revertible like any rollout: back to what was there before, by a normal dispatch.
    await runRevert(h.factory("alice").f, { id: doc.id, reason: "the old one was worse" });
    expect(repo.runs.at(0)!.inputs).toMatchObject({ artifact: artifact(2), environment: "production" });
  });

  it("names a deployment; refuses one that did not succeed, and takes no --artifact", async () => {
    const deploy = repo.workflows.get("deploy.yml")!;
    const run = repo.addRun(deploy, { artifact: artifact(3), environment: "staging" }, "failure");
    const failed = repo.addDeployment("staging", { artifact: artifact(3) }, ["failure"], run);
    const { f } = h.factory("alice");
    await expect(
      runRollout(f, { env: "staging", previous: String(failed.id), reason }),
    ).rejects.toMatchObject({
      exitCode: 2,
      message: `deployment ${failed.id} to staging did not succeed (failure)`,
    });
    await expect(
      runRollout(h.factory("alice").f, { env: "staging", previous: true, artifact: artifact(4), reason }),
    ).rejects.toMatchObject({ exitCode: 2 });
    expect(h.fake.count("POST")).toBe(0);
  });
});
