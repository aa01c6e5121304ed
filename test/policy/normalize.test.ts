import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ProviderName } from "../../src/core/policy.js";
import { principalToString } from "../../src/core/policy.js";
import { loadPolicy, loadPolicyText } from "../../src/policy/load.js";
import { PolicyErrors } from "../../src/policy/problems.js";

/** For `.then(unexpected, …)`: the promise should have been rejected. */
function unexpected(): never {
  throw new Error("expected the policy to be refused");
}

const root = path.resolve(import.meta.dirname, "../..");
const H = 3_600_000;

function load(policy: object, opts: { provider?: ProviderName; repo?: string } = {}) {
  return loadPolicyText(JSON.stringify(policy), ".optoutrc.json", { cwd: root, ...opts });
}

async function problems(policy: object, opts: { provider?: ProviderName } = {}): Promise<string[]> {
  const err = await load(policy, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PolicyErrors);
  return (err as PolicyErrors).lines();
}

const names = (list: readonly { kind: string }[]) => list.map((p) => principalToString(p as never));

describe("normalisation of the example", async () => {
  const policy = await loadPolicy({ configPath: ".optoutrc.example.json", cwd: root });

  it("expands groups into principals, in order, once each", () => {
    expect(names(policy.stages.lint!.allow)).toEqual(["team:acme/oncall", "user:dana"]);
    expect(names(policy.stages.e2e!.allow)).toEqual(["team:acme/oncall", "user:dana", "user:qa-lead"]);
    expect(names(policy.stages["security-scan"]!.approvals!.from)).toEqual([
      "user:sam",
      "user:lee",
      "team:acme/release",
      "role:admin",
    ]);
    expect(names(policy.review.allow!)).toEqual(["user:sam", "user:lee"]);
    expect(policy.groups.oncall).toEqual([
      { kind: "team", org: "acme", slug: "oncall" },
      { kind: "user", login: "dana" },
    ]);
  });

  it("converts durations to milliseconds and compiles patterns", () => {
    expect(policy.stages.lint).toMatchObject({
      ttlMs: 4 * H,
      maxTtlMs: 24 * H,
      mechanism: "status",
      context: "ci/lint",
    });
    expect(policy.stages["security-scan"]!.approvals!.timeoutMs).toBe(2 * H);
    expect(policy.flags.CANARY_PERCENT!.pattern!.test("55")).toBe(true);
    expect(policy.flags.CANARY_PERCENT!.pattern!.test("101")).toBe(false);
    expect(policy.rollout!.artifactPattern.test(`ghcr.io/acme/shop@sha256:${"a".repeat(64)}`)).toBe(true);
    expect(policy.review.withinMs).toBe(7 * 24 * H);
  });

  it("applies entry > defaults > built-in", () => {
    const scan = policy.stages["security-scan"]!;
    expect(scan.reasonMinLength).toBe(30);
    expect(scan.ticket.required).toBe(true);
    expect(scan.ticket.pattern!.source).toBe("^(INC|CHG)-[0-9]+$");
    const freeze = policy.flags.DEPLOY_FREEZE_BYPASS!;
    expect(freeze.ticket.pattern!.source).toBe("^CHG-[0-9]+$");
    expect(freeze.approvals).toMatchObject({ required: 1, environments: ["production"], timeoutMs: 24 * H });
    // Rollouts are reverted, not expired: no TTL unless they set one; failover sets 12h.
    expect(policy.rollout!.ttlMs).toBeNull();
    expect(policy.failover).toMatchObject({
      ttlMs: 12 * H,
      maxTtlMs: 48 * H,
      targets: ["us-east-1", "eu-west-1"],
    });
  });

  it("caps an inherited ttl at the entry's tighter maxTtl (docs/policy.md's e2e example)", () => {
    expect(policy.stages.e2e).toMatchObject({ ttlMs: 2 * H, maxTtlMs: 2 * H });
  });

  it("keeps the rest as written", () => {
    expect(policy).toMatchObject({
      version: 1,
      provider: "github",
      repo: "acme/shop",
      github: { apiUrl: "https://api.github.com" },
      pin: "default-branch",
      signers: { dana: "dana@acme.com" },
      audit: { branch: "optout/audit", signCommits: true },
    });
    expect(policy.notify).toHaveLength(3);
    expect(policy.rollout!.skippable).toEqual(["e2e", "security-scan"]);
  });
});

describe("defaults", () => {
  it("fills a minimal policy with the built-in values", async () => {
    const policy = await load({ version: 1, stages: { e2e: { mechanism: "guard", allow: ["user:dana"] } } });
    expect(policy.provider).toBe("git");
    expect(policy.audit).toEqual({
      branch: "optout/audit",
      remote: "origin",
      allowedSigners: ".optout/allowed_signers",
      namespace: "optout-audit",
      signCommits: false,
    });
    expect(policy.stages.e2e).toEqual({
      name: "e2e",
      mechanism: "guard",
      allow: [{ kind: "user", login: "dana" }],
      ttlMs: 4 * H,
      maxTtlMs: 24 * H,
      reasonMinLength: 15,
      ticket: { required: false },
    });
    expect(policy.review).toEqual({
      configured: false,
      required: false,
      withinMs: 7 * 24 * H,
      allowSelf: false,
    });
    expect(policy).toMatchObject({ groups: {}, flags: {}, notify: [], signers: {}, github: {}, gitlab: {} });
    expect(policy.file).toBe(path.join(root, ".optoutrc.json"));
  });

  it("takes defaults over built-ins, and entries over defaults", async () => {
    const policy = await load({
      version: 1,
      defaults: { ttl: "1h", maxTtl: "8h", reason: { minLength: 5 }, ticket: { required: true } },
      stages: {
        a: { mechanism: "guard", allow: ["user:dana"] },
        b: { mechanism: "guard", allow: ["user:dana"], ttl: "PT2H", maxTtl: "3h", reason: { minLength: 40 } },
      },
    });
    expect(policy.stages.a).toMatchObject({
      ttlMs: H,
      maxTtlMs: 8 * H,
      reasonMinLength: 5,
      ticket: { required: true },
    });
    expect(policy.stages.b).toMatchObject({ ttlMs: 2 * H, maxTtlMs: 3 * H, reasonMinLength: 40 });
  });
});

describe("provider and repo from the command line", () => {
  const gitlabPolicy = {
    version: 1,
    provider: "github",
    repo: "acme/shop",
    stages: {
      lint: { mechanism: "status", context: "ci/lint", allow: ["role:maintainer", "group:acme/platform"] },
    },
  };

  it("wins over the file, and the provider's rules follow it", async () => {
    // The file alone is wrong for GitHub (GitLab role and group) ...
    const lines = await problems(gitlabPolicy);
    expect(lines).toEqual([
      '.optoutrc.json: stages.lint.allow[0]: unknown role "maintainer" for provider github',
      ".optoutrc.json: stages.lint.allow[1]: group: principals need GitLab; provider github cannot check them",
    ]);
    // ... and right with --provider gitlab.
    const policy = await load(gitlabPolicy, { provider: "gitlab", repo: "acme/platform/shop" });
    expect(policy.provider).toBe("gitlab");
    expect(policy.repo).toBe("acme/platform/shop");
    expect(names(policy.stages.lint!.allow)).toEqual(["role:maintainer", "group:acme/platform"]);
  });
});

describe("reporting", () => {
  it("reports every problem of the file, structural and semantic, not just the first", async () => {
    const lines = await problems({
      version: 1,
      provider: "github",
      groups: { oncall: ["user:dana"] },
      stages: {
        lint: { mechanism: "status", context: "ci/lint", alow: ["oncall"] },
        e2e: { mechanism: "guard", allow: ["on-call"], ttl: "2x" },
        unit: { mechanism: "guard", allow: ["oncall"], ttl: "30h" },
      },
      flags: { BYPASS: { values: ["1"], pattern: "^1$", allow: ["oncall"] } },
    });
    expect(lines).toEqual([
      ".optoutrc.json: stages.lint.alow: unknown key; did you mean allow?",
      '.optoutrc.json: stages.e2e.ttl: "2x" is not a duration',
      ".optoutrc.json: stages.unit.ttl: ttl 30h is longer than maxTtl 24h (the built-in maximum)",
      ".optoutrc.json: flags.BYPASS: has both values and pattern; keep one",
    ]);
  });

  it("words every kind of structural problem in the policy's terms", async () => {
    const lines = await problems({
      version: 1,
      provider: 5,
      repo: "noslash",
      github: { apiUrl: "ftp://x" },
      defaults: { reason: { minLength: -1 } },
      groups: { "bad name": ["user:x"], ok: [] },
      stages: { a: { allow: ["user:x"] }, b: { mechanism: "guard", allow: ["user:x"], ttl: 4 } },
      flags: { "bad-flag": { allow: ["user:x"] } },
      notify: [{ type: "issue", number: 1.5 }],
      pin: "main",
      review: { allowSelf: "yes" },
    });
    expect(lines.map((l) => l.replace(".optoutrc.json: ", ""))).toEqual([
      'provider: must be one of "github", "gitlab" or "git"',
      'repo: must be "owner/name" or "group/subgroup/project"',
      "github.apiUrl: must be an http:// or https:// URL",
      "defaults.reason.minLength: must be at least 0",
      'groups["bad name"]: invalid group name; use letters, digits, ".", "_" and "-", starting with a letter or digit',
      "groups.ok: must not be empty",
      'stages.a.mechanism: required; must be one of "status", "variable" or "guard"',
      "stages.b.ttl: expected a string, got a number",
      'flags.bad-flag: invalid flag name; use letters, digits and "_", not starting with a digit',
      "notify[0].number: expected a whole number, got the number 1.5",
      'pin: must be "default-branch"',
      "review.allowSelf: expected true or false, got a string",
    ]);
  });

  it("leaves an entry that fails its structural check out of the rule checks", async () => {
    const lines = await problems({
      version: 1,
      groups: { oncall: ["user:dana"] },
      stages: { e2e: { mechanism: "guard", allow: ["oncal"], ttl: "2x" } },
    });
    // Its allow list ("oncal") is checked once the duration is fixed: rules run on valid entries.
    expect(lines).toEqual(['.optoutrc.json: stages.e2e.ttl: "2x" is not a duration']);
  });

  it("says how many more problems there are in the hint", async () => {
    const err = await load({
      version: 1,
      stages: { a: { mechanism: "guard" }, b: { mechanism: "guard" } },
    }).then(unexpected, (e: unknown) => e as PolicyErrors);
    expect(err.message).toBe(".optoutrc.json: stages.a.allow: required");
    expect(err.hint).toBe(
      "nothing is overridable by default: list principals or group names; 1 more problem: `optout policy check` lists them all",
    );
  });

  it("prefixes paths inside package.json with optout", async () => {
    const err = await loadPolicyText(
      JSON.stringify({ name: "x", optout: { version: 1, stgaes: {} } }),
      "package.json",
      {
        cwd: root,
      },
    ).then(unexpected, (e: unknown) => e as PolicyErrors);
    expect(err.message).toBe("package.json: optout.stgaes: unknown key; did you mean stages?");
  });

  it("quotes keys that would read ambiguously", async () => {
    const lines = await problems({
      version: 1,
      stages: { "ci.lint": { mechanism: "guard", allow: ["usr:x"] } },
    });
    expect(lines).toEqual(['.optoutrc.json: stages["ci.lint"].allow[0]: unknown principal kind "usr"']);
  });

  it.each([
    ["user:", "user: needs a login"],
    ["user:da na", "user: needs a login"],
    ["team:acme", "team: needs org/slug"],
    ["team:acme/x/y", "team: needs org/slug"],
    ["group:", "group: needs a group path"],
    ["role:", "role: needs a role name"],
    ["role:maintainer", 'unknown role "maintainer" for provider github'],
    ["group:acme/x", "group: principals need GitLab; provider github cannot check them"],
    ["org:acme", 'unknown principal kind "org"'],
    ["dana", 'undefined group "dana"'],
  ])("explains the principal %j", async (principal, message) => {
    const lines = await problems({
      version: 1,
      provider: "github",
      stages: { e2e: { mechanism: "guard", allow: [principal] } },
    });
    expect(lines).toEqual([`.optoutrc.json: stages.e2e.allow[0]: ${message}`]);
  });

  it("does not compare TTLs while defaults are invalid", async () => {
    // Without its defaults (dropped for the typo) the 30h ttl would wrongly exceed 24h.
    const lines = await problems({
      version: 1,
      defaults: { maxTtl: "48h", reason: { minLen: 5 } },
      stages: { e2e: { mechanism: "guard", allow: ["user:dana"], ttl: "30h" } },
    });
    expect(lines).toEqual([".optoutrc.json: defaults.reason.minLen: unknown key; did you mean minLength?"]);
  });

  it("never repeats a secret, even one pasted as a key", async () => {
    const token = `ghp_${"Ab1".repeat(12)}`;
    const lines = await problems({ version: 1, [token]: true, signers: { [token]: "x" } });
    expect(lines).toEqual([
      ".optoutrc.json: has a key that looks like a GitHub token; secrets do not belong in the policy file; put it in an environment variable and name it in webhookUrlEnv/secretEnv",
      ".optoutrc.json: signers: has a key that looks like a GitHub token; secrets do not belong in the policy file; put it in an environment variable and name it in webhookUrlEnv/secretEnv",
      ".optoutrc.json: [redacted]: unknown key",
    ]);
  });

  it("rejects a requirement of more approvers than the user list has", async () => {
    const lines = await problems({
      version: 1,
      stages: {
        e2e: { mechanism: "guard", allow: ["user:a"], approvals: { required: 2, from: ["user:b"] } },
      },
    });
    expect(lines).toEqual([
      ".optoutrc.json: stages.e2e.approvals.required: 2 approvals required, but approvals.from names only 1 person",
    ]);
  });
});
