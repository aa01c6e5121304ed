/**
 * Who is acting on GitLab and what they may do: identity from GET /user, user/role/group
 * principals (inherited membership counts, awaiting does not), token sources and hosts, and the
 * policy refusing someone before anything on GitLab changes.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ForgeError, NotAllowedError } from "../../src/errors.js";
import { gitlabHost } from "../../src/providers/gitlab/client.js";
import { Level } from "../fakes/gitlab/model.js";
import { everythingShown, gitlabPolicy, makeGitLabWorld, useGitLabWorld, who } from "./harness.js";

describe("identity and principals on GitLab", () => {
  const g = useGitLabWorld();
  beforeAll(() => {
    g.gl.addUser("frank"); // a maintainer of group acme, not a direct member of the project
    g.gl.groups.get("acme")!.members.set(g.gl.user("frank").id, Level.maintainer);
    g.gl.addGroup("acme/sre", { dave: Level.developer }, { awaiting: ["dave"] });
  });

  const actor = (name: string) => ({ provider: "gitlab", login: name, id: String(g.gl.user(name).id) });

  it("identity is the token's user, asked once", async () => {
    const s = await g.as("bob");
    const a = await s.provider.identity();
    expect(a).toEqual({ provider: "gitlab", login: "bob", id: String(g.gl.user("bob").id) });
    await s.provider.identity();
    expect(g.gl.lines()).toEqual([who]);
    expect(g.gl.requests[0]!.auth).toBe("private");
  });

  it("role: compares access levels numerically, inherited from groups, one request per actor", async () => {
    const p = (await g.as("alice")).provider;
    const role = (r: string) => ({ kind: "role" as const, role: r });
    const alice = actor("alice");
    expect(await p.hasPrincipal(alice, role("developer"))).toBe(true);
    expect(await p.hasPrincipal(alice, role("maintainer"))).toBe(false);
    expect(g.gl.lines()).toEqual([`GET /projects/acme%2Fshop/members/all/${alice.id}`]);
    expect(await p.hasPrincipal(actor("bob"), role("maintainer"))).toBe(true);
    expect(await p.hasPrincipal(actor("bob"), role("owner"))).toBe(false);
    expect(await p.hasPrincipal(actor("carol"), role("developer"))).toBe(false);
    expect(await p.hasPrincipal(actor("frank"), role("maintainer"))).toBe(true);
  });

  it("role: someone who is no member is refused, with a warning saying so", async () => {
    const s = await g.as("alice");
    expect(await s.provider.hasPrincipal(actor("dave"), { kind: "role", role: "guest" })).toBe(false);
    expect(s.said.join("\n")).toMatch(/dave is not a member of acme\/shop on GitLab/);
  });

  it("group: inherited membership counts; awaiting and absent do not; an unseen group is an error", async () => {
    const p = (await g.as("alice")).provider;
    const group = (path: string) => ({ kind: "group" as const, path });
    expect(await p.hasPrincipal(actor("bob"), group("acme/oncall"))).toBe(true); // direct
    expect(await p.hasPrincipal(actor("alice"), group("acme/oncall"))).toBe(true); // from acme
    expect(await p.hasPrincipal(actor("carol"), group("acme"))).toBe(false); // visible, not a member
    expect(await p.hasPrincipal(actor("dave"), group("acme/sre"))).toBe(false); // awaiting
    // GitLab answers "404 Group Not Found" for a group that does not exist (or that it does not
    // show): the principal cannot be checked, and the error names it.
    await expect(p.hasPrincipal(actor("alice"), group("acme/no-such-team"))).rejects.toMatchObject({
      exitCode: 3,
      message:
        "cannot check group:acme/no-such-team: GitLab does not show this group to alice (404 Group Not Found)",
    });
    expect(g.gl.lines()).toContain(`GET /groups/acme%2Fsre/members/all/${g.gl.user("dave").id}`);
  });

  it("the policy refuses carol (exit 3), records the denial, and GitLab sees no write", async () => {
    const s = await g.as("carol");
    const e = await s.skip("lint").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NotAllowedError);
    expect((e as NotAllowedError).exitCode).toBe(3);
    expect(g.gl.lines()).toEqual([who, `GET /groups/acme%2Foncall/members/all/${g.gl.user("carol").id}`]);
    expect(g.gl.project("acme/shop")!.statuses).toEqual([]);
  });

  it("a CI job token goes in JOB-TOKEN; GitLab refuses it for /user, and the message says what to use", async () => {
    const jobToken = "glcbt-64_abcdefghijklmnopqrstuv";
    const s = await g.as("alice", { noToken: true, env: { CI_JOB_TOKEN: jobToken } });
    expect(await s.provider.tokenSource()).toBe("CI_JOB_TOKEN");
    const e = await s.provider.identity().catch((x: unknown) => x);
    expect(g.gl.requests.map((q) => q.auth)).toEqual(["job"]);
    expect(e).toBeInstanceOf(ForgeError);
    expect((e as ForgeError).exitCode).toBe(3);
    expect((e as ForgeError).message).toBe(
      "GitLab refused the token from CI_JOB_TOKEN (401): 401 Unauthorized",
    );
    expect((e as ForgeError).hint).toMatch(/set OPTOUT_GITLAB_TOKEN to an access token with the api scope/);
    expect(everythingShown(s, [e])).not.toContain(jobToken);
  });

  it("without a token: not allowed (exit 3), naming the variable, before any request", async () => {
    const s = await g.as("alice", { noToken: true });
    expect(await s.provider.tokenSource()).toBeNull();
    const e = await s.provider.identity().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NotAllowedError);
    expect((e as Error).message).toMatch(/^no GitLab token: set OPTOUT_GITLAB_TOKEN/);
    expect(g.gl.requests).toEqual([]);
  });

  it("host: policy gitlab.url > CI_SERVER_URL > https://gitlab.com", async () => {
    const policy = (url?: string) => ({ gitlab: url ? { url } : {} }) as Parameters<typeof gitlabHost>[0];
    expect(gitlabHost(policy("https://git.example.com/"), { CI_SERVER_URL: "https://ci.example.com" })).toBe(
      "https://git.example.com",
    );
    expect(gitlabHost(policy(), { CI_SERVER_URL: "https://ci.example.com" })).toBe("https://ci.example.com");
    expect(gitlabHost(policy(), {})).toBe("https://gitlab.com");
  });

  it("notify channel issue: a note on the tracking issue; an unknown issue is a clear 404", async () => {
    const p = (await g.as("bob")).provider;
    await p.commentOnIssue!(42, "### skip lint\n\nreason", AbortSignal.timeout(5_000));
    expect(g.gl.project("acme/shop")!.notes).toEqual([
      { issue: 42, body: "### skip lint\n\nreason", userId: g.gl.user("bob").id },
    ]);
    const e = await p.commentOnIssue!(7, "x").catch((x: unknown) => x);
    expect((e as ForgeError).message).toBe(
      "GitLab refused to comment on issue #7 on acme/shop: 404 Issue Not Found (404)",
    );
    expect(p.recordUrl!("records/2026/01/02/X.json")).toBe(
      `${g.gl.url}/acme/shop/-/blob/optout/audit/records/2026/01/02/X.json`,
    );
  });
});

describe("host from the policy", () => {
  it("policy gitlab.url wins over CI_SERVER_URL", async () => {
    const g = await makeGitLabWorld({ policyUrl: true });
    try {
      const s = await g.as("alice", { env: { CI_SERVER_URL: "http://127.0.0.1:9" } });
      expect((await s.provider.identity()).login).toBe("alice");
      expect(g.gl.lines()).toEqual([who]);
    } finally {
      await g.cleanup();
    }
  });
});

describe("who is acting, by policy", () => {
  it("a policy without role principals asks GET /user alone; with them, one GraphQL request gives the level too", async () => {
    const plain = await makeGitLabWorld({
      policy: gitlabPolicy({
        groups: { oncall: ["user:alice", "group:acme/oncall"], releasers: ["user:bob"] },
      }),
    });
    try {
      expect((await (await plain.as("bob")).provider.identity()).login).toBe("bob");
      expect(plain.gl.lines()).toEqual(["GET /user"]);
    } finally {
      await plain.cleanup();
    }
    const roles = await makeGitLabWorld();
    try {
      const p = (await roles.as("bob")).provider;
      const bob = await p.identity();
      expect(await p.hasPrincipal(bob, { kind: "role", role: "maintainer" })).toBe(true);
      expect(await p.hasPrincipal(bob, { kind: "role", role: "owner" })).toBe(false);
      // Someone else's level (an approver's) is still asked of members/all.
      const alice = { provider: "gitlab", login: "alice", id: String(roles.gl.user("alice").id) };
      expect(await p.hasPrincipal(alice, { kind: "role", role: "developer" })).toBe(true);
      expect(roles.gl.lines()).toEqual([who, `GET /projects/acme%2Fshop/members/all/${alice.id}`]);
      // The fake's GraphQL is GitLab's: a field its schema lacks is an error, not an empty answer.
      const res = await fetch(`${roles.gl.url}/api/graphql`, {
        method: "POST",
        headers: { "private-token": roles.gl.user("bob").token, "content-type": "application/json" },
        body: JSON.stringify({ query: "{ currentUser { id isAdmin } }" }),
      });
      expect(await res.json()).toMatchObject({ errors: [{ message: expect.stringMatching(/isAdmin/) }] });
    } finally {
      await roles.cleanup();
    }
  });
});
