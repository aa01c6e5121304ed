/**
 * `optout init` with the built CLI in fresh repositories: what it writes per provider, that a
 * second run changes nothing, and that what exists is kept unless --force says otherwise.
 */
import { existsSync, readFileSync } from "node:fs";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/world.js";
import { type Fresh, freshRepo } from "./fresh.js";

const { version } = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string };

let r: Fresh;
afterEach(() => r?.cleanup());

const read = (path: string) => readFile(join(r.work, path), "utf8");
const keyPart = () => r.key!.publicLine.split(" ").slice(0, 2).join(" ");

async function snapshot(paths: string[]) {
  return Promise.all(
    paths.map(async (p) => ({ p, text: await read(p), mtime: (await stat(join(r.work, p))).mtimeMs })),
  );
}

describe("optout init --yes on plain git", () => {
  it("writes a valid policy allowing the key's principal, and allowed_signers with the key", async () => {
    r = await freshRepo();
    const res = await r.init("--yes", "--provider", "git");
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/created\s+\.optoutrc\.json/);
    expect(res.stderr).toMatch(/created\s+\.optout\/allowed_signers\s+\(your key as dana@example\.com\)/);
    const policy = JSON.parse(await read(".optoutrc.json"));
    expect(policy).toMatchObject({
      $schema: "https://unpkg.com/optout/schema/optoutrc.schema.json",
      version: 1,
      provider: "git",
      // Named in the policy even though a local path names no owner/name: records carry it.
      repo: expect.stringMatching(/^[\w.-]+\/remote$/),
      groups: { oncall: ["user:dana@example.com"] },
      stages: { lint: { mechanism: "guard", allow: ["oncall"] } },
    });
    expect(await read(".optout/allowed_signers")).toContain(`\ndana@example.com ${keyPart()}\n`);
    expect((await r.run(["policy", "check"])).code).toBe(0);
    // Pipeline text is data (stdout); nothing is written without --write.
    expect(res.stdout).toContain("sh .optout/guard.sh lint npm run lint");
    expect(existsSync(join(r.work, ".optout/guard.sh"))).toBe(false);
    expect(res.stderr).toMatch(/git push origin main/);
    expect(res.stderr).toMatch(/receive\.denyNonFastForwards true/);
  });

  it("a second run changes nothing, with or without --write", async () => {
    r = await freshRepo();
    expect((await r.init("--yes", "--write")).code).toBe(0);
    const files = [".optoutrc.json", ".optout/allowed_signers", ".optout/guard.sh"];
    const before = await snapshot(files);
    const again = await r.init("--yes", "--write");
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/unchanged\s+\.optoutrc\.json/);
    expect(again.stderr).toMatch(/unchanged\s+\.optout\/guard\.sh/);
    expect(again.stderr).toContain("Nothing to change");
    expect(await snapshot(files)).toEqual(before);
    expect((await stat(join(r.work, ".optout/guard.sh"))).mode & 0o111).not.toBe(0);
  });

  it("a policy a formatter reflowed is not a change", async () => {
    r = await freshRepo();
    await r.init("--yes");
    const compact = `${JSON.stringify(JSON.parse(await read(".optoutrc.json")))}\n`;
    await writeFile(join(r.work, ".optoutrc.json"), compact);
    const again = await r.init("--yes");
    expect(again.stderr).toMatch(/unchanged\s+\.optoutrc\.json/);
    expect(await read(".optoutrc.json")).toBe(compact);
  });

  it("keeps files that exist and differ; --force replaces the policy and appends the key", async () => {
    r = await freshRepo();
    const mine = '{ "version": 1, "stages": { "e2e": { "mechanism": "guard", "allow": ["user:lee"] } } }\n';
    const lee =
      "lee@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE6ttNUz2wkd+dkzJ1GQRBmXb4IvmKpq3OgmhyDkYvKz\n";
    await writeFile(join(r.work, ".optoutrc.json"), mine);
    const { mkdir } = await import("node:fs/promises");
    await mkdir(join(r.work, ".optout"));
    await writeFile(join(r.work, ".optout/allowed_signers"), lee);

    const kept = await r.init("--yes");
    expect(kept.code).toBe(0);
    expect(kept.stderr).toMatch(/kept\s+\.optoutrc\.json\s+\(exists and differs; --force replaces it\)/);
    expect(kept.stderr).toMatch(/kept\s+\.optout\/allowed_signers/);
    expect(await read(".optoutrc.json")).toBe(mine);
    expect(await read(".optout/allowed_signers")).toBe(lee);

    const forced = await r.init("--yes", "--force");
    expect(forced.stderr).toMatch(/replaced\s+\.optoutrc\.json/);
    expect(JSON.parse(await read(".optoutrc.json")).stages).toHaveProperty("lint");
    // Nobody's key is dropped: lee's line stays, dana's is added.
    expect(await read(".optout/allowed_signers")).toBe(`${lee}dana@example.com ${keyPart()}\n`);
  });

  it("uses the principal a key is already listed under", async () => {
    r = await freshRepo();
    const { mkdir } = await import("node:fs/promises");
    await mkdir(join(r.work, ".optout"));
    await writeFile(join(r.work, ".optout/allowed_signers"), `dana ${keyPart()}\n`);
    const res = await r.init("--yes");
    expect(res.stderr).toMatch(/unchanged\s+\.optout\/allowed_signers/);
    expect(JSON.parse(await read(".optoutrc.json")).groups.oncall).toEqual(["user:dana"]);
    const clash = await r.init("--yes", "--principal", "dana@example.com", "--force");
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/your key is already in \.optout\/allowed_signers as dana/);
  });

  it("--stages and --principal; a bad stage name is a usage error", async () => {
    r = await freshRepo();
    const res = await r.init("--yes", "--stages", "lint,e2e", "--principal", "dana");
    expect(res.code, res.stderr).toBe(0);
    const policy = JSON.parse(await read(".optoutrc.json"));
    expect(Object.keys(policy.stages)).toEqual(["lint", "e2e"]);
    expect(policy.groups.oncall).toEqual(["user:dana"]);
    expect(await read(".optout/allowed_signers")).toContain(`dana ${keyPart()}`);

    const bad = await r.init("--yes", "--stages", "lint,bad stage");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/"bad stage" is not a stage name/);
  });

  it("without a key: writes an empty allowed_signers and says how to add one", async () => {
    r = await freshRepo({ keyComment: null });
    const res = await r.init("--yes");
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/warning: no public key at .*id_ed25519\.pub/);
    expect(res.stderr).toMatch(/hint: create one with: ssh-keygen -t ed25519/);
    expect(await read(".optout/allowed_signers")).not.toMatch(/^[^#\s]/m);
    // Principal from git's user.email instead.
    expect(JSON.parse(await read(".optoutrc.json")).groups.oncall).toEqual(["user:dana@example.com"]);

    // Once there is a key, running init again adds it (the file held only comments).
    const { execFile } = await import("node:child_process");
    const key = join(r.home, ".ssh", "id_ed25519");
    await new Promise((ok) =>
      execFile("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "dana@example.com", "-f", key], ok),
    );
    const again = await r.init("--yes");
    expect(again.stderr).toMatch(/created\s+\.optout\/allowed_signers\s+\(your key as dana@example\.com\)/);
    expect(again.stderr).toMatch(/unchanged\s+\.optoutrc\.json/);
    expect(await read(".optout/allowed_signers")).toMatch(
      /^# Keys that may sign[\s\S]*\ndana@example\.com ssh-ed25519 \S+\n$/,
    );
  });

  it("--dry-run writes nothing; --json prints one document", async () => {
    r = await freshRepo();
    const dry = await r.init("--yes", "--dry-run", "--write");
    expect(dry.stderr).toMatch(/would be created\s+\.optoutrc\.json/);
    expect(existsSync(join(r.work, ".optoutrc.json"))).toBe(false);
    const json = await r.init("--yes", "--json");
    const doc = JSON.parse(json.stdout);
    expect(doc).toMatchObject({ provider: "git", ci: "any", dryRun: false });
    expect(doc.files.map((f: { path: string; action: string }) => `${f.action} ${f.path}`)).toEqual([
      "create .optoutrc.json",
      "create .optout/allowed_signers",
    ]);
    expect(doc.pipeline[0]).toMatchObject({ path: ".optout/guard.sh", kind: "file" });
  });

  it("leaves a policy in another form alone", async () => {
    r = await freshRepo();
    await writeFile(join(r.work, ".optoutrc.yaml"), "version: 1\n");
    const res = await r.init("--yes");
    expect(res.code).toBe(0);
    expect(existsSync(join(r.work, ".optoutrc.json"))).toBe(false);
    expect(res.stderr).toMatch(/kept\s+\.optoutrc\.yaml\s+\(your policy file; init wrote no other\)/);
  });
});

describe("optout init on a forge", () => {
  it("github.com origin: provider github, a status stage, Actions workflows with --write", async () => {
    r = await freshRepo({ origin: "git@github.com:acme/shop.git", extraEnv: { GITHUB_ACTOR: "dana" } });
    const res = await r.init("--yes", "--write");
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/provider github \(origin is on github\.com\), repo acme\/shop/);
    const policy = JSON.parse(await read(".optoutrc.json"));
    expect(policy).toMatchObject({
      provider: "github",
      repo: "acme/shop",
      groups: { oncall: ["user:dana"] },
      stages: { lint: { mechanism: "status", context: "ci/lint", allow: ["oncall"] } },
    });
    expect(await read(".optout/allowed_signers")).toContain(`dana ${keyPart()}`);
    expect(await read(".github/workflows/optout-expire.yml")).toContain("optout expire");
    expect(await read(".github/workflows/optout-deploy.yml")).toContain("optout_record:");
    // A status stage needs nothing in a workflow: no snippet (a workflow without jobs is invalid).
    expect(res.stdout).not.toContain("<your ci>");
    expect((await r.run(["policy", "check"])).code).toBe(0);
  });

  it("self-hosted GitLab origin: provider gitlab with its URL, the include file with --write", async () => {
    r = await freshRepo({ origin: "https://gitlab.example.com/acme/platform/shop.git" });
    const res = await r.init("--yes", "--write", "--stages", "lint");
    expect(res.code, res.stderr).toBe(0);
    const policy = JSON.parse(await read(".optoutrc.json"));
    expect(policy).toMatchObject({
      provider: "gitlab",
      repo: "acme/platform/shop",
      gitlab: { url: "https://gitlab.example.com" },
    });
    expect(await read(".gitlab/optout-rollout.yml")).toContain("optout-deploy:");
    expect(res.stdout).toContain(`  - component: $CI_SERVER_FQDN/optout-cli/optout/guard@${version}`);
    expect(res.stdout).toContain("  - local: .gitlab/optout-rollout.yml");
    expect(res.stderr).toMatch(/Protected branches/);
  });

  it("--provider git on a GitHub repository: a plain-git policy, pipelines for GitHub Actions", async () => {
    r = await freshRepo({ origin: "https://github.com/acme/shop.git" });
    const res = await r.init("--yes", "--provider", "git");
    expect(JSON.parse(await read(".optoutrc.json")).stages.lint).toEqual({
      mechanism: "guard",
      allow: ["oncall"],
    });
    expect(res.stdout).toContain(`      - uses: optout-cli/optout@v${version}`);
    expect(res.stdout).toContain("          stage: lint");
  });

  it("in GitHub Actions without a forge remote: provider github from GITHUB_ACTIONS", async () => {
    r = await freshRepo({ extraEnv: { GITHUB_ACTIONS: "true", CI: "true" } });
    const res = await r.init("--json");
    expect(JSON.parse(res.stdout)).toMatchObject({
      provider: "github",
      providerFrom: "running in GitHub Actions",
    });
  });
});
