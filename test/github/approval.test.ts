/**
 * Second-person approval on GitHub, via the built CLI against the fake: the requester cannot
 * approve their own request with another signing key, nor as the same GitHub account under
 * another login; someone else's approval applies it.
 *
 * One forge login maps to exactly one allowed_signers principal (policy `signers`), and the
 * factory refuses a key whose principal is not that mapping. So "a second identity" for the same
 * login can only be a second KEY listed under the same mapped principal — tested here — and the
 * closest different-login case is the same GitHub user id under another login (a renamed account,
 * with a second token), tested as well.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeGitHub } from "../fakes/github/server.js";
import type { FakeRepo } from "../fakes/github/state.js";
import { allowedSignersLine } from "../helpers/keys.js";
import { makeWorld, type World } from "../helpers/world.js";
import { githubPolicy, tokens } from "./harness.js";

const reason = "verbose deploy logs for INC-5120 triage";
const renamedToken = `ghp_${"d4".repeat(18)}`;

describe("approvals on GitHub: never by the requester", () => {
  let fake: FakeGitHub;
  let w: World;
  let repo: FakeRepo;

  beforeAll(async () => {
    fake = await FakeGitHub.start();
    const policy = githubPolicy({
      groups: { oncall: ["team:acme/oncall", "user:dana"], approvers: ["user:alice", "user:bob"] },
      signers: { alice: "alice-laptop", "alice-renamed": "alice-laptop" },
      flags: {
        VERBOSE_DEPLOY: {
          values: ["1", "0"],
          allow: ["user:alice"],
          approvals: { required: 1, from: ["approvers"] },
        },
      },
    });
    // Placeholder signers: rewritten below once the keys exist.
    w = await makeWorld({ people: ["alice", "bob"], unlisted: ["alice2"], policy });
    const k = w.keys;
    await w.pushMain(
      {
        ".optout/allowed_signers": `${[
          allowedSignersLine("alice-laptop", k.alice!.publicLine),
          // alice's second key: its principal is the one policy `signers` maps her login to.
          allowedSignersLine("alice-laptop", k.alice2!.publicLine),
          allowedSignersLine("bob", k.bob!.publicLine),
        ].join("\n")}\n`,
      },
      "alice's two keys",
    );
    for (const [login, token] of Object.entries(tokens)) fake.world.addUser(login, token);
    // The same GitHub account (same numeric id) under another login, with another token.
    const alice = fake.world.users.get(tokens.alice!)!;
    fake.world.users.set(renamedToken, { login: "alice-renamed", id: alice.id, token: renamedToken });
    repo = fake.world.addRepo("acme/shop");
    repo.setRole("alice", "admin");
    repo.setRole("alice-renamed", "admin");
    repo.setRole("bob", "write");
  });
  afterAll(async () => {
    await fake.close();
    await w.cleanup();
  });
  afterEach(() => {
    expect(fake.violations).toEqual([]);
  });

  const env = (token: string, key?: string) => ({
    GITHUB_API_URL: fake.url,
    OPTOUT_GITHUB_TOKEN: token,
    ...(key ? { OPTOUT_SIGNING_KEY: key } : {}),
  });

  it("requester: exit 4; same token + second key: exit 3 and a deny; renamed login: exit 3; bob: applied", async () => {
    const req = await w.run("alice", ["flag", "set", "VERBOSE_DEPLOY", "1", "--reason", reason, "--json"], {
      env: env(tokens.alice!),
    });
    expect(req.code, req.stderr).toBe(4);
    const pending = JSON.parse(req.stdout) as { id: string; status: string };
    expect(pending.status).toBe("pending");
    expect(repo.variable("VERBOSE_DEPLOY")).toBeUndefined();

    // The same forge token, alice's SECOND key (principal alice-laptop, mapped from her login).
    const second = await w.run("alice", ["approve", pending.id], {
      env: env(tokens.alice!, w.keys.alice2!.privatePath),
    });
    expect(second.code, second.stderr).toBe(3);
    expect(second.stderr).toContain(`alice may not approve their own request ${pending.id}`);

    // The same GitHub user id under another login (a renamed account), with its own token.
    const renamed = await w.run("alice", ["approve", pending.id], {
      env: env(renamedToken, w.keys.alice2!.privatePath),
    });
    expect(renamed.code, renamed.stderr).toBe(3);
    expect(renamed.stderr).toContain(`alice-renamed may not approve their own request ${pending.id}`);
    expect(repo.variable("VERBOSE_DEPLOY")).toBeUndefined();

    const log = JSON.parse((await w.run("bob", ["log", "--json"], { env: env(tokens.bob!) })).stdout)
      .records as {
      type: string;
      actor: { login: string };
      signer: string;
    }[];
    const denies = log.filter((r) => r.type === "deny");
    expect(denies.map((d) => [d.actor.login, d.signer])).toEqual(
      expect.arrayContaining([
        ["alice", "alice-laptop"],
        ["alice-renamed", "alice-laptop"],
      ]),
    );

    const ok = await w.run("bob", ["approve", pending.id, "--json"], { env: env(tokens.bob!) });
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).record).toMatchObject({
      requester: "alice",
      approvers: ["bob"],
      links: { request: pending.id },
      actor: { login: "bob" },
    });
    expect(repo.variable("VERBOSE_DEPLOY")).toBe("1");
    expect((await w.run("bob", ["log", "--verify"], { env: env(tokens.bob!) })).code).toBe(0);
  });
});
