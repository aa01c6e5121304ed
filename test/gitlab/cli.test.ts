/**
 * The real CLI (bin/optout.js → dist/) against the fake GitLab, as on-call engineers and
 * pipelines run it: CI_SERVER_URL points at the fake, "provider": "gitlab" in the policy.
 */
import { describe, expect, it } from "vitest";
import { isWrite, sha1, useGitLabWorld, who } from "./harness.js";

describe("optout on GitLab, end to end", () => {
  const g = useGitLabWorld();
  const run = (person: string, args: string[]) =>
    g.w.run(person, args, { env: { CI_SERVER_URL: g.gl.url, OPTOUT_GITLAB_TOKEN: g.gl.user(person).token } });

  it("skip → status success on GitLab → revert puts the old state back", async () => {
    const skip = await run("alice", [
      "skip",
      "lint",
      "--sha",
      sha1,
      "--reason",
      "linter crashes on node 22, INC-4411",
      "--json",
    ]);
    expect(skip.stderr).not.toContain(g.gl.user("alice").token);
    expect(skip.code).toBe(0);
    const out = JSON.parse(skip.stdout) as { id: string; status: string };
    expect(out.status).toBe("applied");
    expect(g.gl.lines()).toEqual([
      who,
      `GET /projects/acme%2Fshop/repository/commits/${sha1}/statuses`,
      `POST /projects/acme%2Fshop/statuses/${sha1}`,
    ]);
    expect(g.gl.project("acme/shop")!.statuses.at(-1)).toMatchObject({
      status: "success",
      name: "ci/lint",
      ref: "main",
    });

    const revert = await run("alice", ["revert", out.id, "--reason", "linter fixed upstream"]);
    expect(revert.code).toBe(0);
    expect(g.gl.project("acme/shop")!.statuses.at(-1)).toMatchObject({ status: "pending", name: "ci/lint" });
  });

  it("--verbose logs each request, --dry-run changes nothing, and no token is printed", async () => {
    const r = await run("bob", [
      "flag",
      "set",
      "DEPLOY_FREEZE_BYPASS",
      "true",
      "--env",
      "production",
      "--reason",
      "freeze bypass for the hotfix INC-9",
      "--dry-run",
      "-v",
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /GET \/projects\/acme%2Fshop\/variables\/DEPLOY_FREEZE_BYPASS\?filter\[environment_scope\]=production 404 \d+ms/,
    );
    expect(r.stdout).toContain("POST /projects/acme%2Fshop/variables");
    expect(g.gl.requests.filter(isWrite)).toEqual([]);
    expect(`${r.stdout}${r.stderr}`).not.toContain(g.gl.user("bob").token);
  });

  it("GitLab's refusal is one line and exit 3", async () => {
    const r = await run("alice", [
      "flag",
      "set",
      "MAINTENANCE",
      "on",
      "--reason",
      "maintenance window, CHG-1234",
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      "optout: GitLab refused: Maintainer role is needed to read CI/CD variables on acme/shop (403)",
    );
  });
});
