/**
 * Rollouts and failovers on GitLab: a pipeline with OPTOUT_* variables (the exact body GitLab
 * receives), `--wait` to success, failure and timeout, the previous artifact from the ledger or
 * from GitLab's deployments, and reverts that roll back / fail back.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { LedgerRecord } from "../../src/core/record.js";
import { FailedError, UnknownOutcomeError, UsageError } from "../../src/errors.js";
import {
  artifact,
  type GitLabWorld,
  gitlabPolicy,
  isWrite,
  makeGitLabWorld,
  useGitLabWorld,
  who,
} from "./harness.js";

const rolloutPolicy = gitlabPolicy().rollout as Record<string, unknown>;

const pipelinePosts = (g: GitLabWorld) =>
  g.gl.requests.filter((q) => q.method === "POST" && q.path.endsWith("/pipeline"));

describe("rollout on GitLab", () => {
  let g: GitLabWorld;
  beforeAll(async () => {
    g = await makeGitLabWorld();
  });
  afterAll(() => g.cleanup());
  afterEach(() => {
    expect(g.gl.violations).toEqual([]);
    g.gl.requests.length = 0;
    g.gl.clearFaults();
    g.gl.pipelineScript = ["pending", "running", "success"];
  });

  it("creates a pipeline on the default branch with the OPTOUT_* variables", async () => {
    const s = await g.as("bob");
    const r = await s.rollout(artifact(1), "staging");
    expect(r.status).toBe("applied");
    const bob = g.gl.user("bob").id;
    // Who bob is and his level (role:maintainer) in one request; then the project, the last
    // deployment (for `before`) and the pipeline.
    expect(g.gl.lines()).toEqual([
      who,
      "GET /projects/acme%2Fshop",
      "GET /projects/acme%2Fshop/deployments",
      "POST /projects/acme%2Fshop/pipeline",
    ]);
    expect(g.gl.lines().join("\n")).not.toContain(`/members/all/${bob}`);
    expect(g.gl.requests[2]!.query).toEqual({
      environment: "staging",
      status: "success",
      order_by: "id",
      sort: "desc",
      per_page: "1",
      page: "1",
    });
    // The body GitLab gets: `variables` with exactly key and value (no `inputs`, no camelCase).
    expect(g.gl.requests[3]!.body).toEqual({
      ref: "main",
      variables: [
        { key: "OPTOUT_ARTIFACT", value: artifact(1) },
        { key: "OPTOUT_ENVIRONMENT", value: "staging" },
        { key: "OPTOUT_RECORD", value: r.id },
      ],
    });
    const pl = g.gl.project("acme/shop")!.pipelines.at(-1)!;
    expect(r.record.before).toEqual({ artifact: null });
    expect(r.result?.after).toEqual({
      artifact: artifact(1),
      ref: "main",
      run: { id: pl.id, url: `${g.gl.url}/acme/shop/-/pipelines/${pl.id}`, conclusion: null },
    });
    expect(s.said.join("\n")).toMatch(/before: unknown \(no successful deployment to staging on GitLab\)/);
  });

  it("--wait follows the pipeline to success; the previous artifact comes from the ledger", async () => {
    const s = await g.as("bob");
    const r = await s.rollout(artifact(2), "staging", { wait: "true", skip: "e2e" });
    expect(r.record.before).toEqual({ artifact: artifact(1) });
    expect(pipelinePosts(g)[0]!.body).toMatchObject({
      variables: [
        { key: "OPTOUT_ARTIFACT", value: artifact(2) },
        { key: "OPTOUT_ENVIRONMENT", value: "staging" },
        { key: "OPTOUT_SKIP", value: "e2e" },
        { key: "OPTOUT_RECORD", value: r.id },
      ],
    });
    // The ledger knew the previous artifact: GitLab's deployments were not asked.
    expect(g.gl.lines().filter((l) => l.includes("deployments"))).toEqual([]);
    const polls = g.gl.lines().filter((l) => /pipelines\/\d+$/.test(l));
    expect(polls).toHaveLength(3); // pending, running, success
    expect(s.progress.some((p) => /^pipeline #\d+ (created|pending|running)/.test(p))).toBe(true);
    expect(r.result?.after).toMatchObject({ run: { conclusion: "success" } });
  });

  it("--wait: a failed pipeline fails the rollout with the pipeline's URL, and the ledger says so", async () => {
    g.gl.pipelineScript = ["running", "failed"];
    const s = await g.as("bob");
    const e = await s.rollout(artifact(3), "staging", { wait: "true" }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FailedError);
    const pl = g.gl.project("acme/shop")!.pipelines.at(-1)!;
    expect((e as Error).message).toBe(
      `pipeline #${pl.id} failed: ${g.gl.url}/acme/shop/-/pipelines/${pl.id}`,
    );
    expect((e as FailedError).exitCode).toBe(1);
    // The failed rollout is not in force: staging still runs artifact 2.
    const active = (await s.active()).filter((x) => x.op === "rollout" && x.target.env === "staging");
    expect(active.map((x) => (x.after as { artifact: string }).artifact)).toEqual([artifact(2)]);
  });

  it("--wait gives up after the timeout, saying the pipeline keeps running", async () => {
    g.gl.pipelineScript = Array(1000).fill("running");
    const s = await g.as("bob");
    const e = await s
      .rollout(artifact(4), "staging", { wait: "true", timeoutMs: "60" })
      .catch((x: unknown) => x);
    // Not a failure: the pipeline may still succeed. `optout sync` settles it.
    expect(e).toBeInstanceOf(UnknownOutcomeError);
    expect((e as Error).message).toMatch(/^pipeline #\d+ is still running after 0 s: http/);
    expect((e as UnknownOutcomeError).hint).toMatch(
      /keeps running on GitLab: follow it there, then run `optout sync`/,
    );
  });

  it("--wait: when GitLab stops answering about the pipeline, the error says where it still runs", async () => {
    g.gl.inject({ method: "GET", path: /\/pipelines\/\d+$/, status: 500, times: 10 });
    const e = await (await g.as("bob"))
      .rollout(artifact(4), "staging", { wait: "true" })
      .catch((x: unknown) => x);
    const pl = g.gl.project("acme/shop")!.pipelines.at(-1)!;
    expect((e as FailedError).message).toMatch(
      new RegExp(
        `^lost track of pipeline #${pl.id}: GitLab failed to read pipeline #${pl.id} on acme/shop \\(500; 4 attempts over [\\d.]+ s\\): 500 fault injected$`,
      ),
    );
    expect(e).toBeInstanceOf(UnknownOutcomeError);
    expect((e as UnknownOutcomeError).hint).toBe(
      `it may still be running: ${g.gl.url}/acme/shop/-/pipelines/${pl.id}; then run \`optout sync\` to read from GitLab what happened and record it`,
    );
  });

  it("without ledger history, the previous artifact is the last successful deployment's OPTOUT_ARTIFACT", async () => {
    const p = g.gl.project("acme/shop")!;
    const old = { id: g.gl.id(), ref: "main", sha: "1".repeat(40), status: "success", script: [], userId: 1 };
    p.pipelines.push({
      ...old,
      variables: [{ key: "OPTOUT_ARTIFACT", value: artifact(7), variable_type: "env_var" }],
    });
    p.deployments.push({
      id: g.gl.id(),
      environment: "production",
      status: "success",
      pipelineId: old.id,
      finishedAt: "2026-01-01T00:00:00Z",
    });
    p.deployments.push({
      id: g.gl.id(),
      environment: "production",
      status: "failed",
      pipelineId: 1,
      finishedAt: "2026-02-01T00:00:00Z",
    });
    const r = await (await g.as("bob")).rollout(artifact(8), "production");
    expect(r.record.before).toEqual({ artifact: artifact(7) });
    expect(g.gl.lines()).toContain(`GET /projects/acme%2Fshop/pipelines/${old.id}/variables`);
  });

  it("revert rolls the previous artifact out again, and that becomes current", async () => {
    const r = await (await g.as("bob")).rollout(artifact(5), "production");
    expect(r.record.before).toEqual({ artifact: artifact(8) });
    g.gl.requests.length = 0;
    const s = await g.as("bob");
    const rv = await s.revert(r.id);
    expect(g.gl.lines()).toEqual([who, "POST /projects/acme%2Fshop/pipeline"]);
    expect(pipelinePosts(g)[0]!.body).toEqual({
      ref: "main",
      variables: [
        { key: "OPTOUT_ARTIFACT", value: artifact(8) },
        { key: "OPTOUT_ENVIRONMENT", value: "production" },
        { key: "OPTOUT_RECORD", value: rv.id },
      ],
    });
    const now = (await s.active()).filter((x) => x.op === "rollout" && x.target.env === "production");
    expect(now.map((x) => (x.after as { artifact: string }).artifact)).toEqual([artifact(8)]);
  });

  it("pipeline creation is never repeated after an ambiguous failure (502): one POST, an unknown outcome", async () => {
    g.gl.inject({ method: "POST", path: /\/pipeline$/, status: 502 });
    const e = await (await g.as("bob")).rollout(artifact(9), "staging").catch((x: unknown) => x);
    // GitLab may have created it: looked for by its record, not found, so unknown, not failed.
    expect(e).toBeInstanceOf(UnknownOutcomeError);
    expect((e as Error).message).toBe(
      "GitLab failed to create a pipeline on main on acme/shop (502; 1 attempt): 502 fault injected; GitLab may have done it anyway",
    );
    expect(pipelinePosts(g)).toHaveLength(1);
    expect(g.gl.lines()).toContain("GET /projects/acme%2Fshop/pipelines");
  });

  it("a pipeline created whose answer was lost (502) is found by its record: created once, applied", async () => {
    g.gl.inject({ method: "POST", path: /\/pipeline$/, status: 502, afterApply: true });
    const before = g.gl.project("acme/shop")!.pipelines.length;
    const r = await (await g.as("bob")).rollout(artifact(8), "staging");
    expect(r.status).toBe("applied");
    expect(pipelinePosts(g)).toHaveLength(1);
    const pl = g.gl.project("acme/shop")!.pipelines.at(-1)!;
    expect(g.gl.project("acme/shop")!.pipelines.length).toBe(before + 1);
    expect(r.result?.after).toMatchObject({ run: { id: pl.id } });
    expect(g.gl.lines().slice(-3)).toEqual([
      "POST /projects/acme%2Fshop/pipeline",
      "GET /projects/acme%2Fshop/pipelines",
      `GET /projects/acme%2Fshop/pipelines/${pl.id}/variables`,
    ]);
  });

  it("…but is repeated after a 429, which GitLab answers before doing anything", async () => {
    g.gl.inject({ method: "POST", path: /\/pipeline$/, status: 429, retryAfter: 1 });
    const s = await g.as("bob");
    const r = await s.rollout(artifact(9), "staging");
    expect(r.status).toBe("applied");
    expect(pipelinePosts(g).map((q) => q.status)).toEqual([429, 201]);
    expect(s.progress).toContain("GitLab answered HTTP 429; retrying in 1 s");
  });

  it("--dry-run reads only and shows the pipeline it would create", async () => {
    const r = await (await g.as("bob", { dryRun: true })).rollout(artifact(10), "staging", { skip: "e2e" });
    expect(r.status).toBe("dry-run");
    expect(g.gl.requests.filter(isWrite)).toEqual([]);
    expect(r.plan.calls).toEqual([
      `POST /projects/acme%2Fshop/pipeline {"ref":"main","variables":[{"key":"OPTOUT_ARTIFACT","value":"${artifact(10)}"},{"key":"OPTOUT_ENVIRONMENT","value":"staging"},{"key":"OPTOUT_SKIP","value":"e2e"},{"key":"OPTOUT_RECORD","value":"<record id>"}]}`,
    ]);
  });
});

describe("a project that forbids pipeline variables (no_one_allowed)", () => {
  const spec = { artifact: null, environment: null, skip: "", optout_record: null };

  it("gets inputs instead, in the same number of requests; sync finds the pipeline by its name", async () => {
    const g = await makeGitLabWorld();
    try {
      const p = g.gl.project("acme/shop")!;
      p.pipelineVariablesRole = "no_one_allowed";
      p.specInputs = spec;
      p.workflowName = (v) => `deploy ${v.environment} (${v.optout_record})`;
      const s = await g.as("bob");
      const r = await s.rollout(artifact(1), "staging", { skip: "e2e" });
      expect(r.status).toBe("applied");
      expect(g.gl.lines()).toHaveLength(4); // who and role, project (default branch + setting), deployments, create
      expect(pipelinePosts(g)[0]!.body).toEqual({
        ref: "main",
        inputs: { artifact: artifact(1), environment: "staging", skip: "e2e", optout_record: r.id },
      });
      expect(p.pipelines.at(-1)!.inputs).toMatchObject({ optout_record: r.id });
      expect(g.gl.violations).toEqual([]);
      const found = await s.provider.settle!({
        id: r.id,
        type: "intent",
        op: "rollout",
        mechanism: "pipeline",
        time: new Date().toISOString(),
        links: {},
        before: null,
        after: { artifact: artifact(1), ref: "main" },
      } as unknown as LedgerRecord);
      expect(found).toMatchObject({ applied: true, after: { run: { id: p.pipelines.at(-1)!.id } } });
    } finally {
      await g.cleanup();
    }
  });

  it("when the setting cannot be read first, GitLab's refusal of the variables turns to inputs (nothing was created)", async () => {
    const g = await makeGitLabWorld({ policy: gitlabPolicy({ rollout: { ...rolloutPolicy, ref: "main" } }) });
    try {
      const p = g.gl.project("acme/shop")!;
      p.pipelineVariablesRole = "no_one_allowed";
      p.specInputs = spec;
      const r = await (await g.as("bob")).rollout(artifact(2), "staging");
      expect(r.status).toBe("applied");
      expect(pipelinePosts(g).map((q) => q.status)).toEqual([400, 201]);
      expect(pipelinePosts(g)[1]!.body).toMatchObject({
        inputs: { artifact: artifact(2), optout_record: r.id },
      });
      expect(p.pipelines).toHaveLength(1);
      expect(g.gl.violations).toEqual([]);
    } finally {
      await g.cleanup();
    }
  });
});

describe("rollout --previous on GitLab", () => {
  it("retries the deployment job of the newest successful deployment before the newest; revertible", async () => {
    const g = await makeGitLabWorld();
    try {
      const p = g.gl.project("acme/shop")!;
      const deployed = (n: number) => {
        const pl = {
          id: g.gl.id(),
          ref: "main",
          sha: "1".repeat(40),
          status: "success",
          script: [],
          userId: 1,
          variables: [{ key: "OPTOUT_ARTIFACT", value: artifact(n), variable_type: "env_var" }],
        };
        p.pipelines.push(pl);
        const d = {
          id: g.gl.id(),
          environment: "production",
          status: "success" as const,
          pipelineId: pl.id,
          finishedAt: "2026-01-01T00:00:00Z",
        };
        p.deployments.push(d);
        return d;
      };
      const good = deployed(7);
      deployed(8);
      const s = await g.as("bob");
      const prev = await s.provider.previousDeployment!("production");
      expect(prev).toMatchObject({
        id: String(good.id),
        artifact: artifact(7),
        summary: `deployment ${good.id} (${artifact(7)}), job ${good.id + 1000}`,
      });
      g.gl.requests.length = 0;
      const r = await s.rollout(artifact(7), "production", { previous: prev.id, wait: "true" });
      expect(r.status).toBe("applied");
      expect(r.record.before).toEqual({ artifact: artifact(8) });
      expect(r.result?.after).toMatchObject({
        artifact: artifact(7),
        deployment: String(good.id),
        run: { conclusion: "success" },
      });
      // The lookup was made once (for the command); the plan reuses it. Then one retry, and polls.
      expect(g.gl.lines().filter((l) => l.startsWith("POST") && l !== who)).toEqual([
        `POST /projects/acme%2Fshop/jobs/${good.id + 1000}/retry`,
      ]);
      expect(p.deployments.at(-1)).toMatchObject({ status: "success", pipelineId: good.pipelineId });

      // `optout sync` can tell the retry happened: a new deployment of that pipeline since the intent.
      const intent = {
        id: r.id,
        type: "intent",
        op: "rollout",
        mechanism: "rerun",
        time: new Date(Date.now() - 1000).toISOString(),
        target: { env: "production", artifact: artifact(7) },
        params: { previous: prev.id },
        before: { artifact: artifact(8) },
        links: {},
      } as unknown as LedgerRecord;
      expect(await s.provider.settle!(intent)).toMatchObject({
        applied: true,
        after: { deployment: prev.id },
      });
      const later = { ...intent, time: new Date(Date.now() + 3_600_000).toISOString() } as LedgerRecord;
      expect(await s.provider.settle!(later)).toEqual({ applied: false, after: { artifact: artifact(8) } });

      // Revertible like any rollout: a pipeline rolls the artifact that was there out again.
      g.gl.requests.length = 0;
      await (await g.as("bob")).revert(r.id);
      expect(pipelinePosts(g)[0]!.body).toMatchObject({
        variables: expect.arrayContaining([{ key: "OPTOUT_ARTIFACT", value: artifact(8) }]),
      });
      expect(g.gl.violations).toEqual([]);
    } finally {
      await g.cleanup();
    }
  });
});

describe("rollout revert without a known previous artifact", () => {
  it("is refused with a hint, and creates no pipeline", async () => {
    const g = await makeGitLabWorld();
    try {
      const r = await (await g.as("bob")).rollout(artifact(1), "production");
      g.gl.requests.length = 0;
      const e = await (await g.as("bob")).revert(r.id).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(UsageError);
      expect((e as Error).message).toBe(
        `the artifact in production before rollout ${r.id} is not known, so it cannot be rolled back`,
      );
      expect(pipelinePosts(g)).toEqual([]);
      expect(g.gl.violations).toEqual([]);
    } finally {
      await g.cleanup();
    }
  });
});

describe("failover on GitLab", () => {
  const g = useGitLabWorld();
  const region = (scope = "*") =>
    g.gl
      .project("acme/shop")!
      .variables.find((v) => v.key === "ACTIVE_REGION" && v.environment_scope === scope);

  it("switches the variable, then runs the failover pipeline on failover.ref; revert fails back exactly", async () => {
    g.gl.setVariable("acme/shop", "ACTIVE_REGION", "us-east-1", {
      protected: true,
      description: "where traffic goes",
    });
    const original = structuredClone(region());
    const r = await (await g.as("bob")).failover("eu-west-1");
    const bob = g.gl.user("bob").id;
    expect(g.gl.lines()).toEqual([
      who,
      `GET /groups/acme%2Foncall/members/all/${bob}`,
      "GET /projects/acme%2Fshop/variables/ACTIVE_REGION",
      "PUT /projects/acme%2Fshop/variables/ACTIVE_REGION",
      "POST /projects/acme%2Fshop/pipeline",
    ]);
    expect(g.gl.requests[3]!.body).toEqual({ value: "eu-west-1" });
    expect(g.gl.requests[4]!.body).toEqual({
      ref: "main",
      variables: [
        { key: "OPTOUT_FAILOVER_TARGET", value: "eu-west-1" },
        { key: "OPTOUT_RECORD", value: r.id },
      ],
    });
    expect(region()).toEqual({ ...original, value: "eu-west-1" });
    expect(r.record.before).toMatchObject({ target: "us-east-1", variable: { protected: true } });
    expect(r.result?.after).toMatchObject({ target: "eu-west-1", ref: "main", run: { conclusion: null } });

    region()!.protected = false; // drift meanwhile
    g.gl.requests.length = 0;
    const rv = await (await g.as("bob")).revert(r.id);
    expect(g.gl.lines()).toEqual([
      who,
      "GET /projects/acme%2Fshop/variables/ACTIVE_REGION",
      "PUT /projects/acme%2Fshop/variables/ACTIVE_REGION",
      "POST /projects/acme%2Fshop/pipeline",
    ]);
    expect(g.gl.requests[3]!.body).toEqual({
      ref: "main",
      variables: [
        { key: "OPTOUT_FAILOVER_TARGET", value: "us-east-1" },
        { key: "OPTOUT_RECORD", value: rv.id },
      ],
    });
    expect(region()).toEqual(original);
  });

  it("in an environment: its own scope, created and removed again, and OPTOUT_ENVIRONMENT set", async () => {
    const r = await (await g.as("bob")).failover("eu-west-1", "production");
    expect(g.gl.requests.find((q) => q.method === "POST" && q.path.endsWith("/variables"))!.body).toEqual({
      key: "ACTIVE_REGION",
      value: "eu-west-1",
      environment_scope: "production",
      description: `managed by optout: record ${r.id} (optout revert ${r.id} removes it)`,
    });
    expect(pipelinePosts(g)[0]!.body).toMatchObject({
      variables: [
        { key: "OPTOUT_FAILOVER_TARGET", value: "eu-west-1" },
        { key: "OPTOUT_ENVIRONMENT", value: "production" },
        { key: "OPTOUT_RECORD", value: r.id },
      ],
    });
    expect(region("*")?.value).toBe("us-east-1");
    g.gl.requests.length = 0;
    await (await g.as("bob")).revert(r.id);
    // Nothing was there before: the variable goes, and no pipeline runs for "no target".
    expect(g.gl.lines().slice(1)).toEqual([
      "GET /projects/acme%2Fshop/variables/ACTIVE_REGION",
      "DELETE /projects/acme%2Fshop/variables/ACTIVE_REGION",
    ]);
    expect(region("production")).toBeUndefined();
  });
});

describe("failover whose pipeline GitLab did not confirm", () => {
  const g = useGitLabWorld();

  it("leaves the variable switched (a pipeline may be running with it) and says the outcome is unknown", async () => {
    g.gl.setVariable("acme/shop", "ACTIVE_REGION", "us-east-1");
    g.gl.inject({ method: "POST", path: /\/pipeline$/, status: 500 });
    const e = await (await g.as("bob")).failover("eu-west-1").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UnknownOutcomeError);
    const v = g.gl.project("acme/shop")!.variables.find((x) => x.key === "ACTIVE_REGION");
    expect(v?.value).toBe("eu-west-1");
    expect(g.gl.requests.filter((q) => q.method === "PUT")).toHaveLength(1); // never set back
  });
});

describe("settle on GitLab: what an unknown outcome turned out to be", () => {
  const g = useGitLabWorld();
  const intent = (over: Partial<LedgerRecord>): LedgerRecord =>
    ({
      id: "01JZ0000000000000000000000",
      type: "intent",
      outcome: "intent",
      time: new Date().toISOString(),
      links: {},
      before: null,
      after: null,
      ...over,
    }) as unknown as LedgerRecord;

  it("a rollout: the pipeline carrying the record is found (applied), or there is none (not applied)", async () => {
    const s = await g.as("bob");
    const r = await s.rollout(artifact(5), "staging");
    g.gl.requests.length = 0;
    const found = await s.provider.settle!(
      intent({
        id: r.id,
        op: "rollout",
        mechanism: "pipeline",
        after: { artifact: artifact(5), ref: "main" },
      }),
    );
    const pl = g.gl.project("acme/shop")!.pipelines.at(-1)!;
    expect(found).toEqual({
      applied: true,
      after: {
        artifact: artifact(5),
        ref: "main",
        run: { id: pl.id, url: expect.any(String), conclusion: null },
      },
    });
    const missing = await s.provider.settle!(
      intent({
        op: "rollout",
        mechanism: "pipeline",
        before: { artifact: null },
        after: { artifact: artifact(6), ref: "main" },
      }),
    );
    expect(missing).toEqual({ applied: false, after: { artifact: null } });
    // List once, read the variables of the pipelines it lists: reads only.
    expect(g.gl.requests.filter(isWrite)).toEqual([]);
  });

  it("a flag: the variable read back and compared", async () => {
    const s = await g.as("bob");
    await s.flag("MAINTENANCE", "on");
    const want = { key: "MAINTENANCE", scope: "*", value: "on" };
    expect(
      await s.provider.settle!(intent({ op: "flag", mechanism: "variable", after: want })),
    ).toMatchObject({
      applied: true,
      after: { value: "on" },
    });
    expect(
      await s.provider.settle!(
        intent({ op: "flag", mechanism: "variable", after: { ...want, value: "off" } }),
      ),
    ).toMatchObject({ applied: false, after: { value: "on" } });
  });

  it("a status skip: the status links to its record", async () => {
    const s = await g.as("alice");
    const r = await s.skip("lint", { ref: "hotfix" });
    const after = r.result!.after as Record<string, unknown>;
    expect(
      await s.provider.settle!(intent({ id: r.id, op: "skip", mechanism: "status", after })),
    ).toMatchObject({
      applied: true,
      after: { state: "success", ref: "hotfix" },
    });
    expect(await s.provider.settle!(intent({ op: "skip", mechanism: "status", after }))).toEqual({
      applied: false,
      after: null,
    });
  });
});

describe("failover without failover.ref", () => {
  it("only switches the variable and says why no pipeline runs", async () => {
    const policy = gitlabPolicy({
      failover: {
        variable: "ACTIVE_REGION",
        targets: ["us-east-1", "eu-west-1"],
        workflow: "failover.yml",
        allow: ["oncall"],
      },
    });
    const g = await makeGitLabWorld({ policy });
    try {
      const s = await g.as("bob");
      await s.failover("eu-west-1");
      expect(pipelinePosts(g)).toEqual([]);
      expect(s.said.join("\n")).toMatch(/failover.workflow is a GitHub workflow: no GitLab pipeline runs/);
      expect(g.gl.violations).toEqual([]);
    } finally {
      await g.cleanup();
    }
  });
});
