/**
 * On a forge the actor is the token's user, and the key that signs the records must be theirs:
 * its allowed_signers principal must be the login, or what the policy's `signers` maps the login
 * to. A key listed for somebody else is refused before anything is recorded or changed.
 */
import { describe, expect, it } from "vitest";
import { runSkip } from "../../src/commands/skip/run.js";
import { requireSignerIsActor, sameActor } from "../../src/core/authorize.js";
import { git } from "../helpers/world.js";
import { tokens, useHarness } from "./harness.js";

const h = useHarness();

const reason = "flaky check blocks the hotfix, INC-7";

describe("the signing key belongs to the forge user", () => {
  it("refuses alice's key with bob's token: nothing recorded, nothing posted", async () => {
    const { f } = h.factory("alice", { env: { OPTOUT_GITHUB_TOKEN: tokens.bob! } });
    await expect(runSkip(f, { stage: "lint", ref: "main", reason })).rejects.toMatchObject({
      exitCode: 3,
      message: 'your signing key belongs to "alice" in allowed_signers, but you are bob on github',
      hint: 'map the login in the policy: "signers": { "bob": "alice" } (reviewed on the default branch)',
    });
    expect(h.fake.requests.filter((r) => r.method !== "GET")).toEqual([]);
    expect(await git(h.w.remote, "branch", "--list", "optout/audit")).toBe("");
  });

  it("accepts the key with its owner's token", async () => {
    const { f } = h.factory("alice");
    await runSkip(f, { stage: "lint", ref: "main", reason });
    expect((await (await f.provider()).identity()).login).toBe("alice");
  });
});

describe("the rules", () => {
  const bob = { provider: "github", login: "Bob", id: "42" };

  it("a login the policy maps to the key's principal is that principal's", () => {
    expect(() => requireSignerIsActor(bob, "bob-laptop", { Bob: "bob-laptop" }, "github")).not.toThrow();
    expect(() => requireSignerIsActor(bob, "Bob", {}, "github")).not.toThrow();
    expect(() => requireSignerIsActor(bob, "alice", { Bob: "bob-laptop" }, "github")).toThrow(
      /belongs to "alice"/,
    );
  });

  it("sameActor: one account whatever the login's case, or the same id after a rename", () => {
    expect(sameActor(bob, { provider: "github", login: "bob", id: "7" })).toBe(true);
    expect(sameActor(bob, { provider: "github", login: "robert", id: "42" })).toBe(true);
    expect(sameActor(bob, { provider: "gitlab", login: "Bob", id: "42" })).toBe(false);
    expect(sameActor(bob, { provider: "github", login: "alice", id: "7" })).toBe(false);
    expect(sameActor(bob, "BOB")).toBe(true);
    expect(sameActor(bob, "alice")).toBe(false);
  });
});
