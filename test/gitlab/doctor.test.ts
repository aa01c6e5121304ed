/** `optout doctor` on GitLab, via the built CLI against the fake: the token's source and protected branches. */
import { afterEach, describe, expect, it } from "vitest";
import { useGitLabWorld } from "./harness.js";

interface Check {
  name: string;
  status: string;
  detail: string;
  hint?: string;
}

describe("optout doctor on GitLab", () => {
  const g = useGitLabWorld();
  afterEach(() => {
    g.gl.project("acme/shop")!.protectedBranches.clear();
  });
  const run = (person: string, args: string[] = ["doctor"]) =>
    g.w.run(person, args, { env: { CI_SERVER_URL: g.gl.url, OPTOUT_GITLAB_TOKEN: g.gl.user(person).token } });
  const checksOf = (stdout: string) => (JSON.parse(stdout) as { checks: Check[] }).checks;

  it("audit branch not protected (404): fail, exit 1, with the protected-branches hint", async () => {
    const r = await run("alice");
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain("✓ token: GitLab token from OPTOUT_GITLAB_TOKEN");
    expect(r.stdout).toContain(
      "✗ audit branch protection (optout/audit): optout/audit is not protected against force pushes on GitLab: not a protected branch",
    );
    expect(r.stdout).toContain(
      'GitLab: Settings → Repository → Protected branches: protect optout/audit, "Allowed to force push" off',
    );
    expect(r.stdout).toMatch(/! default branch protection \(main\): main is not protected/);
    expect(r.stdout + r.stderr).not.toContain(g.gl.user("alice").token);
    // One list of rules serves both branches (a wildcard rule protects by pattern, not by name).
    expect(g.gl.lines().filter((l) => l.includes("protected_branches"))).toEqual([
      "GET /projects/acme%2Fshop/protected_branches",
    ]);
  });

  it("protected branches without force push: ok, exit 0", async () => {
    const p = g.gl.project("acme/shop")!;
    p.protectedBranches.set("optout/audit", { allow_force_push: false });
    p.protectedBranches.set("main", { allow_force_push: false });
    const r = await run("alice", ["doctor", "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(checksOf(r.stdout).find((c) => c.name === "audit branch protection (optout/audit)")).toEqual({
      name: "audit branch protection (optout/audit)",
      status: "ok",
      detail: "force pushes blocked: protected branch, force push not allowed",
      hint: expect.any(String),
    });
  });

  it("a wildcard rule (optout/*) protects the audit branch", async () => {
    const p = g.gl.project("acme/shop")!;
    p.protectedBranches.set("optout/*", { allow_force_push: false });
    p.protectedBranches.set("main", { allow_force_push: false });
    const r = await run("alice", ["doctor", "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(checksOf(r.stdout).find((c) => c.name === "audit branch protection (optout/audit)")).toMatchObject(
      {
        status: "ok",
        detail: "force pushes blocked: protected branch (rule optout/*), force push not allowed",
      },
    );
  });

  it("says whether the project takes pipeline variables or inputs", async () => {
    const p = g.gl.project("acme/shop")!;
    let r = await run("bob", ["doctor", "--json"]);
    expect(checksOf(r.stdout).find((c) => c.name === "pipeline variables")).toMatchObject({
      status: "ok",
      detail: "pipeline variables are allowed from the developer role: optout passes OPTOUT_* variables",
    });
    p.pipelineVariablesRole = "no_one_allowed";
    try {
      r = await run("bob", ["doctor", "--json"]);
      expect(checksOf(r.stdout).find((c) => c.name === "pipeline variables")).toMatchObject({
        status: "ok",
        detail: "the project forbids pipeline variables (no_one_allowed): optout passes inputs",
        hint: expect.stringContaining("spec:inputs artifact, environment"),
      });
      // A Developer does not see the setting: optout will try variables, then inputs.
      r = await run("alice", ["doctor", "--json"]);
      expect(checksOf(r.stdout).find((c) => c.name === "pipeline variables")).toMatchObject({
        status: "warn",
      });
    } finally {
      p.pipelineVariablesRole = undefined;
    }
  });

  it("protected but force push allowed: still a failure for the audit branch", async () => {
    g.gl.project("acme/shop")!.protectedBranches.set("optout/audit", { allow_force_push: true });
    const r = await run("alice", ["doctor", "--json"]);
    expect(r.code).toBe(1);
    expect(checksOf(r.stdout).find((c) => c.name === "audit branch protection (optout/audit)")).toMatchObject(
      {
        status: "fail",
        detail: expect.stringContaining("force push allowed"),
      },
    );
  });

  it("a token that may not read protected branches (403): cannot tell, a warning", async () => {
    const r = await run("carol", ["doctor", "--json"]);
    expect(checksOf(r.stdout).find((c) => c.name === "audit branch protection (optout/audit)")).toMatchObject(
      {
        status: "warn",
        detail: expect.stringContaining("cannot tell whether GitLab protects optout/audit"),
      },
    );
  });
});
