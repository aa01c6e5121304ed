/**
 * Stage skips on GitLab: mechanism `status` (commit status on the commit, reverted to the state
 * recorded before), `variable` (a project CI/CD variable), and `guard` (ledger only, no request).
 */
import { describe, expect, it } from "vitest";
import type { ForgeError, NotAllowedError } from "../../src/errors.js";
import { recordPath } from "../../src/ledger/store.js";
import { gitlabPolicy, isWrite, makeGitLabWorld, sha1, sha2, sha3, useGitLabWorld, who } from "./harness.js";

describe("skip on GitLab", () => {
  const g = useGitLabWorld();

  const statuses = () => g.gl.project("acme/shop")!.statuses;

  it("posts success on the stage's status for the ref's commit, with ref, reason and record link", async () => {
    const s = await g.as("alice");
    const r = await s.skip("lint", { ref: "release/1.2", reason: "linter crashes on node 22, INC-4411" });
    expect(r.status).toBe("applied");
    // identity, resolve the ref, read the current status, post: four requests, one write.
    expect(g.gl.lines()).toEqual([
      who,
      "GET /projects/acme%2Fshop/repository/commits/release%2F1.2",
      "GET /projects/acme%2Fshop/repository/commits/2222222222222222222222222222222222222222/statuses",
      "POST /projects/acme%2Fshop/statuses/2222222222222222222222222222222222222222",
    ]);
    expect(g.gl.requests[2]!.query).toEqual({ ref: "release/1.2", name: "ci/lint" });
    const post = g.gl.requests[3]!;
    expect(post.auth).toBe("private");
    expect(post.body).toEqual({
      state: "success",
      name: "ci/lint",
      ref: "release/1.2",
      description: "waived by optout: linter crashes on node 22, INC-4411",
      target_url: `${g.gl.url}/acme/shop/-/blob/optout/audit/${recordPath(r.id).path}`,
    });
    const [st] = statuses().filter((x) => x.sha === sha2);
    expect(st).toMatchObject({ status: "success", ref: "release/1.2", name: "ci/lint" });
    expect(r.record.before).toBeNull();
    expect(r.result?.after).toMatchObject({
      state: "success",
      sha: sha2,
      ref: "release/1.2",
      context: "ci/lint",
    });
    expect(s.log[0]).toMatch(/^POST \/api\/graphql 200 \d+ms$/);
  });

  it("revert puts back the state, description and link that were there before", async () => {
    g.gl.project("acme/shop")!.statuses.push({
      id: g.gl.id(),
      sha: sha1,
      ref: "main",
      name: "ci/lint",
      status: "failed",
      description: "3 lint errors",
      target_url: "https://ci.example.com/jobs/9",
      userId: g.gl.user("carol").id,
    });
    const s = await g.as("alice");
    const r = await s.skip("lint", { sha: sha1, ref: "main" });
    expect(r.record.before).toEqual({
      state: "failed",
      description: "3 lint errors",
      targetUrl: "https://ci.example.com/jobs/9",
    });
    // sha given: no commit lookup.
    expect(g.gl.lines().filter((l) => l.includes("/repository/commits/main"))).toEqual([]);
    g.gl.requests.length = 0;

    // A new command is a new process: a new session asks who is acting again.
    const rv = await (await g.as("alice")).revert(r.id);
    expect(rv.status).toBe("applied");
    expect(g.gl.lines()).toEqual([
      who,
      `GET /projects/acme%2Fshop/repository/commits/${sha1}/statuses`,
      `POST /projects/acme%2Fshop/statuses/${sha1}`,
    ]);
    expect(g.gl.requests[2]!.body).toEqual({
      state: "failed",
      name: "ci/lint",
      ref: "main",
      description: "3 lint errors",
      target_url: "https://ci.example.com/jobs/9",
    });
    const latest = statuses()
      .filter((x) => x.sha === sha1 && x.name === "ci/lint")
      .sort((a, b) => b.id - a.id)[0];
    expect(latest).toMatchObject({
      status: "failed",
      description: "3 lint errors",
      target_url: "https://ci.example.com/jobs/9",
    });
    expect((await s.active()).map((e) => e.id)).not.toContain(r.id);
  });

  it("with no status before, expiry posts pending: the check has not reported yet", async () => {
    const s = await g.as("alice");
    const r = await s.skip("lint", { sha: sha3, ref: "hotfix", ttlMs: 60_000 });
    g.gl.requests.length = 0;
    const later = await g.as("alice");
    const ex = await later.expire(r.id);
    expect(ex.status).toBe("applied");
    const post = g.gl.requests.find((q) => isWrite(q))!;
    expect(post.body).toMatchObject({ state: "pending", name: "ci/lint", ref: "hotfix" });
    expect(later.said.join("\n")).toMatch(/back to pending \(it had no status before the waiver/);
  });

  it("a 400 'Cannot transition status' after a lost answer is read back and counts as done", async () => {
    // Our user's own running status (a bot that also reports ci/lint): the revert posts running.
    g.gl.project("acme/shop")!.statuses.push({
      id: g.gl.id(),
      sha: sha1,
      ref: "main",
      name: "ci/lint",
      status: "running",
      description: "linting",
      target_url: null,
      userId: g.gl.user("alice").id,
    });
    const s = await g.as("alice");
    const r = await s.skip("lint", { sha: sha1 });
    expect(r.record.before).toMatchObject({ state: "running" });
    // GitLab applies the revert's POST but the answer is lost (502); the retry then hits our own
    // running status: "Cannot transition status via :run from :running".
    g.gl.inject({ method: "POST", path: /statuses/, status: 502, afterApply: true });
    g.gl.requests.length = 0;
    const rv = await (await g.as("alice")).revert(r.id);
    expect(rv.status).toBe("applied");
    expect(g.gl.requests.map((q) => `${q.method} ${q.status}`)).toEqual([
      "POST 200", // who is acting (GraphQL)
      "GET 200", // statuses (plan)
      "POST 502", // applied, answer lost
      "POST 400", // retried: Cannot transition status via :run from :running
      "GET 200", // read back: running, as asked
    ]);
    expect(rv.result?.after).toMatchObject({ state: "running" });
  });

  it("a commit without a ref: the status goes where GitLab puts it, and the revert follows", async () => {
    const s = await g.as("alice");
    // sha2 is only on release/1.2, whatever branch is checked out here.
    const r = await s.skip("lint", { sha: sha2, ref: null });
    expect(r.status).toBe("applied");
    expect(g.gl.lines()).toEqual([
      who,
      `GET /projects/acme%2Fshop/repository/commits/${sha2}/statuses`,
      `POST /projects/acme%2Fshop/statuses/${sha2}`,
    ]);
    expect(g.gl.requests[1]!.query).toEqual({ name: "ci/lint" });
    expect(g.gl.requests[2]!.body).not.toHaveProperty("ref");
    expect(r.result?.after).toMatchObject({ sha: sha2, ref: "release/1.2", state: "success" });
    g.gl.requests.length = 0;
    await (await g.as("alice")).revert(r.id);
    // Back to what was there before, on the ref GitLab chose.
    expect(g.gl.requests.find((q) => isWrite(q))!.body).toMatchObject({
      state: r.record.before === null ? "pending" : (r.record.before as { state: string }).state,
      ref: "release/1.2",
    });
  });

  it("a context that is the name of a job GitLab runs is refused while planning, before any record", async () => {
    g.gl.project("acme/shop")!.statuses.push({
      id: g.gl.id(),
      sha: sha3,
      ref: "hotfix",
      name: "ci/lint",
      status: "failed",
      description: null,
      target_url: null,
      userId: g.gl.user("bob").id,
      job: true,
    });
    const s = await g.as("alice");
    const activeBefore = (await s.active()).length;
    const e = await s.skip("lint", { ref: "hotfix" }).catch((x: unknown) => x);
    g.gl.project("acme/shop")!.statuses = g.gl.project("acme/shop")!.statuses.filter((x) => !x.job);
    expect(e).toMatchObject({ exitCode: 2 });
    expect((e as Error).message).toBe(
      'stages.lint.context "ci/lint" is the name of a job GitLab runs in that pipeline; a commit status cannot stand in for it',
    );
    expect((e as { hint: string }).hint).toMatch(/use mechanism "guard"/);
    expect(g.gl.lines().at(-1)).toMatch(/^GET \/projects\/acme%2Fshop\/jobs\/\d+$/);
    expect(g.gl.requests.some(isWrite)).toBe(false);
    expect((await s.active()).length).toBe(activeBefore);
  });

  it("an external status of the same name (with its link) needs no extra request", async () => {
    g.gl.project("acme/shop")!.statuses.push({
      id: g.gl.id(),
      sha: sha3,
      ref: "hotfix",
      name: "ci/lint",
      status: "failed",
      description: "Jenkins: 2 problems",
      target_url: "https://jenkins.example.com/job/lint/7",
      userId: g.gl.user("bob").id,
    });
    const r = await (await g.as("alice")).skip("lint", { ref: "hotfix" });
    expect(r.status).toBe("applied");
    // user, resolve hotfix, statuses, post: the link says it is not a job.
    expect(g.gl.lines()).toHaveLength(4);
  });

  it("a 409 (another update in progress) is retried", async () => {
    const s = await g.as("alice");
    g.gl.inject({
      method: "POST",
      path: /statuses/,
      status: 409,
      body: { message: "Another update to this commit status is in progress" },
    });
    const r = await s.skip("lint", { sha: sha2, ref: "release/1.2" });
    expect(r.status).toBe("applied");
    expect(g.gl.requests.filter(isWrite).map((q) => q.status)).toEqual([409, 201]);
  });

  it("mechanism variable sets the project variable; revert removes it again", async () => {
    // Variables need a maintainer on GitLab: bob (maintainer, in acme/oncall).
    const s = await g.as("bob");
    const r = await s.skip("security");
    expect(g.gl.lines()).toEqual([
      who,
      `GET /groups/acme%2Foncall/members/all/${g.gl.user("bob").id}`,
      "GET /projects/acme%2Fshop/variables/OPTOUT_SKIP_SECURITY",
      "POST /projects/acme%2Fshop/variables",
    ]);
    expect(g.gl.requests[2]!.query).toEqual({ "filter[environment_scope]": "*" });
    expect(g.gl.requests[3]!.body).toEqual({
      key: "OPTOUT_SKIP_SECURITY",
      value: "true",
      environment_scope: "*",
      description: `managed by optout: record ${r.id} (optout revert ${r.id} removes it)`,
    });
    expect(s.said.join("\n")).toMatch(/pipelines of every ref see it/);
    g.gl.requests.length = 0;
    await (await g.as("bob")).revert(r.id);
    expect(g.gl.lines()).toEqual([
      who,
      "GET /projects/acme%2Fshop/variables/OPTOUT_SKIP_SECURITY",
      "DELETE /projects/acme%2Fshop/variables/OPTOUT_SKIP_SECURITY",
    ]);
    expect(
      g.gl.project("acme/shop")!.variables.find((v) => v.key === "OPTOUT_SKIP_SECURITY"),
    ).toBeUndefined();
  });

  it("mechanism guard is the ledger record alone: no GitLab request but who is acting", async () => {
    const s = await g.as("alice");
    const r = await s.skip("e2e");
    expect(r.status).toBe("applied");
    expect(r.plan.external).toBe(false);
    expect(r.record.after).toEqual({ waived: true });
    expect(g.gl.lines()).toEqual([who]);
    g.gl.requests.length = 0;
    const rv = await (await g.as("alice")).revert(r.id);
    expect(rv.status).toBe("applied");
    expect(g.gl.lines()).toEqual([who]);
  });
});

describe("skip on a project named by its numeric id", () => {
  it("uses the id in paths, and asks GitLab once for the path the record link needs", async () => {
    const g = await makeGitLabWorld();
    try {
      const id = g.gl.project("acme/shop")!.id;
      const reason = `a very long reason ${"x".repeat(300)}`;
      const r = await (await g.as("alice", { repo: String(id) })).skip("lint", { sha: sha1, reason });
      expect(g.gl.lines()).toEqual([
        "GET /user", // GraphQL finds projects by path only
        `GET /projects/${id}/repository/commits/${sha1}/statuses`,
        `GET /projects/${id}`,
        `POST /projects/${id}/statuses/${sha1}`,
      ]);
      const body = g.gl.requests[3]!.body as { description: string; target_url: string };
      expect(body.target_url).toBe(`${g.gl.url}/acme/shop/-/blob/optout/audit/${recordPath(r.id).path}`);
      // GitLab's 255-character limit: the reason is cut, and says so.
      expect([...body.description]).toHaveLength(255);
      expect(body.description.endsWith("…")).toBe(true);
      expect(g.gl.violations).toEqual([]);
    } finally {
      await g.cleanup();
    }
  });
});

describe("a Developer on a protected branch", () => {
  const g = useGitLabWorld();

  it("is told the branch is protected, not that the Developer role is needed", async () => {
    g.gl.project("acme/shop")!.protectedBranches.set("release/*", { allow_force_push: false });
    const s = await g.as("alice");
    const e = await s.skip("lint", { ref: "release/1.2" }).catch((x: unknown) => x);
    expect((e as ForgeError).exitCode).toBe(3);
    expect((e as ForgeError).message).toBe(
      "GitLab refused: you are a Developer on acme/shop, but release/1.2 is protected: only those allowed to push or merge to it may set commit statuses there (403)",
    );
    expect((e as Error).message).not.toMatch(/role is needed/);
    g.gl.project("acme/shop")!.protectedBranches.clear();
  });
});

describe("a status skip by ref that a role principal allows", () => {
  // lint is allowed to role:maintainer only: the actor's level is part of who they are.
  const g = useGitLabWorld({
    policy: gitlabPolicy({
      stages: {
        lint: { mechanism: "status", context: "ci/lint", allow: ["releasers"] },
        e2e: { mechanism: "guard", allow: ["oncall"] },
      },
    }),
  });

  it("takes four requests: who and their level, the ref's commit, its status, the post", async () => {
    const r = await (await g.as("bob")).skip("lint", { ref: "release/1.2" });
    expect(r.status).toBe("applied");
    expect(g.gl.lines()).toEqual([
      who,
      "GET /projects/acme%2Fshop/repository/commits/release%2F1.2",
      `GET /projects/acme%2Fshop/repository/commits/${sha2}/statuses`,
      `POST /projects/acme%2Fshop/statuses/${sha2}`,
    ]);
    expect(g.gl.requests[0]!.body).toMatchObject({ variables: { project: "acme/shop" } });
    expect(r.record.actor).toMatchObject({ login: "bob", id: String(g.gl.user("bob").id) });
  });

  it("a level below the role is refused after that one request, and nothing is written", async () => {
    const e = await (await g.as("alice")).skip("lint", { ref: "release/1.2" }).catch((x: unknown) => x);
    expect((e as NotAllowedError).exitCode).toBe(3);
    expect((e as Error).message).toBe("alice may not skip lint");
    expect(g.gl.lines()).toEqual([who]);
  });

  it("on a GitLab without Project.maxAccessLevel (before 16.9): GET /user and members/all, as REST gives them", async () => {
    g.gl.graphqlMaxAccessLevel = false;
    try {
      const r = await (await g.as("bob")).skip("lint", { ref: "hotfix" });
      expect(r.status).toBe("applied");
      expect(g.gl.lines().slice(0, 3)).toEqual([
        who,
        "GET /user",
        `GET /projects/acme%2Fshop/members/all/${g.gl.user("bob").id}`,
      ]);
      expect(g.gl.lines()).toHaveLength(6);
    } finally {
      g.gl.graphqlMaxAccessLevel = true;
    }
  });
});
