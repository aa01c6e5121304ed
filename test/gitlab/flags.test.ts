/**
 * Deploy flags as project CI/CD variables: the scope is --env (or `*`), every read, update and
 * delete names it, and a revert restores value, scope and every attribute exactly.
 */
import { describe, expect, it } from "vitest";
import { ForgeError, UsageError } from "../../src/errors.js";
import { isWrite, useGitLabWorld, who } from "./harness.js";

describe("flags on GitLab", () => {
  const g = useGitLabWorld();

  const vars = () => g.gl.project("acme/shop")!.variables;
  const copy = <T>(x: T): T => structuredClone(x);

  it("the fake answers 409 for a key in several scopes when the filter is missing", async () => {
    g.gl.setVariable("acme/shop", "MULTI", "a");
    g.gl.setVariable("acme/shop", "MULTI", "b", { environment_scope: "production" });
    const res = await fetch(`${g.gl.url}/api/v4/projects/acme%2Fshop/variables/MULTI`, {
      headers: { "PRIVATE-TOKEN": g.gl.user("bob").token },
    });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({
      message:
        "There are multiple variables with provided parameters. Please use 'filter[environment_scope]'",
    });
    g.gl.violations.length = 0; // that request broke our own rule on purpose
  });

  it("set in one environment touches only that scope, though the key exists in others", async () => {
    g.gl.setVariable("acme/shop", "DEPLOY_FREEZE_BYPASS", "false");
    g.gl.setVariable("acme/shop", "DEPLOY_FREEZE_BYPASS", "false", { environment_scope: "staging" });
    const others = copy(vars().filter((v) => v.key === "DEPLOY_FREEZE_BYPASS"));
    const bob = await g.as("bob");
    const r = await bob.flag("DEPLOY_FREEZE_BYPASS", "true", "production");
    expect(r.status).toBe("applied");
    const id = g.gl.user("bob").id;
    // role:maintainer costs no request: GitLab gave bob's level with who he is.
    expect(g.gl.lines()).toEqual([
      who,
      "GET /projects/acme%2Fshop/variables/DEPLOY_FREEZE_BYPASS",
      "POST /projects/acme%2Fshop/variables",
    ]);
    expect(g.gl.lines().join("\n")).not.toContain(`/members/all/${id}`);
    expect(g.gl.requests[1]!.query).toEqual({ "filter[environment_scope]": "production" });
    // A variable optout creates says whose it is, and which record ends it.
    expect(g.gl.requests[2]!.body).toEqual({
      key: "DEPLOY_FREEZE_BYPASS",
      value: "true",
      environment_scope: "production",
      description: `managed by optout: record ${r.id} (optout revert ${r.id} removes it)`,
    });
    expect(r.record.before).toEqual({ key: "DEPLOY_FREEZE_BYPASS", scope: "production", value: null });

    g.gl.requests.length = 0;
    await (await g.as("bob")).revert(r.id);
    expect(g.gl.lines()).toEqual([
      who,
      "GET /projects/acme%2Fshop/variables/DEPLOY_FREEZE_BYPASS",
      "DELETE /projects/acme%2Fshop/variables/DEPLOY_FREEZE_BYPASS",
    ]);
    expect(g.gl.requests.slice(1).map((q) => q.query)).toEqual([
      { "filter[environment_scope]": "production" },
      { "filter[environment_scope]": "production" },
    ]);
    expect(vars().filter((v) => v.key === "DEPLOY_FREEZE_BYPASS")).toEqual(others);
  });

  it("changing a variable optout did not create is said in the plan", async () => {
    g.gl.setVariable("acme/shop", "MAINTENANCE", "off", { description: "owned by the ops team" });
    const s = await g.as("bob");
    const r = await s.flag("MAINTENANCE", "on");
    expect(r.status).toBe("applied");
    expect(s.said).toContain(
      'plan: note: MAINTENANCE (scope *) was not created by optout (its description: "owned by the ops team"): optout changes its value only, and putting it back restores it exactly',
    );
    // Only the value: its description (and every other attribute) is the owner's.
    expect(g.gl.requests.find((q) => q.method === "PUT")!.body).toEqual({ value: "on" });
    await (await g.as("bob")).revert(r.id);
  });

  it("revert restores value and every attribute: protected, raw, file type, description", async () => {
    g.gl.setVariable("acme/shop", "MAINTENANCE", "off since 2024-05-01", {
      protected: true,
      raw: true,
      variable_type: "file",
      description: "managed by ops",
    });
    const original = copy(vars().find((v) => v.key === "MAINTENANCE")!);
    const bob = await g.as("bob");
    const r = await bob.flag("MAINTENANCE", "on");
    // Setting keeps the attributes: only the value is sent.
    expect(g.gl.requests.at(-1)).toMatchObject({ method: "PUT", body: { value: "on" } });
    expect(vars().find((v) => v.key === "MAINTENANCE")).toEqual({ ...original, value: "on" });
    expect(r.record.before).toEqual({
      key: "MAINTENANCE",
      scope: "*",
      value: "off since 2024-05-01",
      protected: true,
      masked: false,
      raw: true,
      variable_type: "file",
      description: "managed by ops",
    });

    // Someone changes the attributes meanwhile; the revert puts back what the record says.
    Object.assign(vars().find((v) => v.key === "MAINTENANCE")!, {
      protected: false,
      raw: false,
      description: null,
    });
    g.gl.requests.length = 0;
    await (await g.as("bob")).revert(r.id);
    expect(g.gl.requests.at(-1)).toMatchObject({
      method: "PUT",
      query: { "filter[environment_scope]": "*" },
      body: {
        value: "off since 2024-05-01",
        protected: true,
        masked: false,
        raw: true,
        variable_type: "file",
        description: "managed by ops",
      },
    });
    expect(vars().find((v) => v.key === "MAINTENANCE")).toEqual(original);
  });

  it("unset ends optout's override and puts back the value from before optout", async () => {
    g.gl.setVariable("acme/shop", "MAINTENANCE", "on");
    await expect((await g.as("bob")).flag("MAINTENANCE", null)).rejects.toThrow(/not overridden by optout/);
    await (await g.as("bob")).flag("MAINTENANCE", "off");
    await (await g.as("bob")).flag("MAINTENANCE", "maintenance");
    const r = await (await g.as("bob")).flag("MAINTENANCE", null);
    // Back to "on", what was there before optout's first override, not the "off" it replaced.
    expect(vars().find((v) => v.key === "MAINTENANCE")?.value).toBe("on");
    expect(r.result?.after).toMatchObject({ value: "on" });
    const active = await (await g.as("bob")).active();
    expect(active.filter((e) => e.target.flag === "MAINTENANCE")).toEqual([]);
  });

  it("a revert recreates a variable deleted meanwhile, with every attribute", async () => {
    g.gl.setVariable("acme/shop", "MAINTENANCE", "c2VjcmV0LXZhbHVl", {
      masked: true,
      description: "masked one",
    });
    const original = copy(vars().find((v) => v.key === "MAINTENANCE")!);
    const r = await (await g.as("bob")).flag("MAINTENANCE", "bWFpbnRlbmFuY2Utb24=");
    const p = g.gl.project("acme/shop")!;
    p.variables = p.variables.filter((v) => v.key !== "MAINTENANCE");
    g.gl.requests.length = 0;
    await (await g.as("bob")).revert(r.id);
    expect(g.gl.requests.at(-1)).toMatchObject({
      method: "POST",
      body: {
        key: "MAINTENANCE",
        value: "c2VjcmV0LXZhbHVl",
        environment_scope: "*",
        protected: false,
        masked: true,
        raw: false,
        variable_type: "env_var",
        description: "masked one",
      },
    });
    expect(vars().find((v) => v.key === "MAINTENANCE")).toEqual(original);
  });

  it("a masked variable refuses a value GitLab cannot mask, and says why", async () => {
    g.gl.setVariable("acme/shop", "MAINTENANCE", "c2VjcmV0LXZhbHVl", { masked: true });
    const e = await (await g.as("bob")).flag("MAINTENANCE", "on").catch((x: unknown) => x);
    expect((e as Error).message).toBe(
      'GitLab refused to change CI/CD variable MAINTENANCE on acme/shop: {"value":["is invalid"]} (400)',
    );
    expect(vars().find((v) => v.key === "MAINTENANCE")?.value).toBe("c2VjcmV0LXZhbHVl");
  });

  it("a developer is refused by GitLab with the role it needs, exit 3, and nothing changes", async () => {
    const before = copy(vars());
    const alice = await g.as("alice");
    const e = await alice.flag("MAINTENANCE", "on").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ForgeError);
    expect((e as ForgeError).message).toBe(
      "GitLab refused: Maintainer role is needed to read CI/CD variables on acme/shop (403)",
    );
    expect((e as ForgeError).exitCode).toBe(3);
    expect(vars()).toEqual(before);
  });

  it("a refused write names the role too", async () => {
    g.gl.setVariable("acme/shop", "MAINTENANCE", "on");
    g.gl.inject({ method: "PUT", path: /variables/, status: 403, body: { message: "403 Forbidden" } });
    const e = await (await g.as("bob")).flag("MAINTENANCE", "off").catch((x: unknown) => x);
    expect((e as Error).message).toBe(
      "GitLab refused: Maintainer role is needed to change CI/CD variables on acme/shop (403)",
    );
    // The intent was recorded before the write; its failure is recorded too, not left in flight.
    expect(g.gl.requests.filter((q) => q.method === "PUT")).toHaveLength(1);
  });

  it("a hidden variable is refused: its value could never be restored", async () => {
    g.gl.setVariable("acme/shop", "DEPLOY_FREEZE_BYPASS", "secret-value", {
      environment_scope: "staging",
      hidden: true,
      masked: true,
    });
    const e = await (await g.as("bob"))
      .flag("DEPLOY_FREEZE_BYPASS", "true", "staging")
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).toMatch(/DEPLOY_FREEZE_BYPASS \(scope staging\) is hidden/);
    expect(g.gl.requests.filter(isWrite)).toEqual([]);
  });

  it("--dry-run reads only and lists the exact writes it would make", async () => {
    g.gl.setVariable("acme/shop", "MAINTENANCE", "off");
    const s = await g.as("bob", { dryRun: true });
    const r = await s.flag("MAINTENANCE", "on");
    expect(r.status).toBe("dry-run");
    expect(g.gl.requests.filter(isWrite)).toEqual([]);
    expect(r.plan.calls).toEqual([
      'PUT /projects/acme%2Fshop/variables/MAINTENANCE?filter[environment_scope]=* {"value":"on"}',
    ]);
    expect(vars().find((v) => v.key === "MAINTENANCE")?.value).toBe("off");
  });
});
