import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { displayPath, findPolicyFile, loadPolicy } from "../../src/policy/load.js";
import { PolicyErrors } from "../../src/policy/problems.js";

/** For `.then(unexpected, …)`: the promise should have been rejected. */
function unexpected(): never {
  throw new Error("expected the policy to be refused");
}

const minimal = { version: 1, stages: { e2e: { mechanism: "guard", allow: ["user:dana"] } } };
const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

let top: string;
/** A repository inside `top`: <top>/repo with .git, and a nested working directory. */
let repo: string;
let nested: string;

function write(file: string, content: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

beforeEach(() => {
  top = realpathSync(mkdtempSync(path.join(os.tmpdir(), "optout-policy-")));
  repo = path.join(top, "repo");
  nested = path.join(repo, "services", "api");
  mkdirSync(path.join(repo, ".git"), { recursive: true });
  mkdirSync(nested, { recursive: true });
});

afterEach(() => {
  rmSync(top, { recursive: true, force: true });
});

describe("findPolicyFile", () => {
  it("finds .optoutrc.json in a parent directory within the repository", () => {
    const file = write(path.join(repo, ".optoutrc.json"), json(minimal));
    expect(findPolicyFile(nested)).toBe(file);
  });

  it("stops at the repository root", () => {
    write(path.join(top, ".optoutrc.json"), json(minimal));
    expect(findPolicyFile(nested)).toBeUndefined();
  });

  it("takes the nearest directory first, then the search order within it", () => {
    write(path.join(repo, ".optoutrc.json"), json(minimal));
    const near = write(path.join(nested, ".optoutrc.yml"), "version: 1\n");
    expect(findPolicyFile(nested)).toBe(near);
    const first = write(path.join(nested, ".optoutrc"), json(minimal));
    expect(findPolicyFile(nested)).toBe(first);
  });

  it("uses package.json only when it has an optout key", () => {
    write(path.join(repo, "package.json"), json({ name: "shop" }));
    const yaml = write(path.join(repo, ".optoutrc.yaml"), "version: 1\n");
    expect(findPolicyFile(nested)).toBe(yaml);
    const pkg = write(path.join(repo, "package.json"), json({ name: "shop", optout: minimal }));
    expect(findPolicyFile(nested)).toBe(pkg);
  });

  it("ignores directories named like a policy file", () => {
    mkdirSync(path.join(repo, ".optoutrc"));
    const file = write(path.join(repo, ".optoutrc.json"), json(minimal));
    expect(findPolicyFile(repo)).toBe(file);
  });
});

describe("loadPolicy", () => {
  it("loads the discovered file and names it by its absolute path", async () => {
    const file = write(path.join(repo, ".optoutrc.json"), json(minimal));
    const policy = await loadPolicy({ cwd: nested });
    expect(policy.file).toBe(file);
    expect(Object.keys(policy.stages)).toEqual(["e2e"]);
  });

  it("loads package.json#optout", async () => {
    write(
      path.join(repo, "package.json"),
      json({ name: "shop", optout: { ...minimal, provider: "github" } }),
    );
    const policy = await loadPolicy({ cwd: repo });
    expect(policy.provider).toBe("github");
  });

  it("loads .optoutrc.yaml through cosmiconfig", async () => {
    const yaml = [
      "version: 1",
      "provider: gitlab",
      "stages:",
      "  lint:",
      "    mechanism: status",
      "    context: ci/lint",
      "    allow: [group:acme/oncall]",
      "",
    ];
    write(path.join(repo, ".optoutrc.yaml"), yaml.join("\n"));
    const policy = await loadPolicy({ cwd: nested });
    expect(policy.provider).toBe("gitlab");
    expect(policy.stages.lint!.allow).toEqual([{ kind: "group", path: "acme/oncall" }]);
  });

  it("loads a YAML .optoutrc, and optout.config.mjs", async () => {
    write(path.join(repo, ".optoutrc"), "version: 1\nprovider: github\n");
    expect((await loadPolicy({ cwd: repo })).provider).toBe("github");
    const mjs = write(path.join(nested, "optout.config.mjs"), `export default ${JSON.stringify(minimal)};\n`);
    expect((await loadPolicy({ cwd: nested })).file).toBe(mjs);
  });

  it("--config loads exactly that file, relative to the cwd, even outside the repository", async () => {
    write(path.join(repo, ".optoutrc.json"), json({ version: 1, provider: "gitlab" }));
    const other = write(path.join(top, "elsewhere.json"), json({ version: 1, provider: "github" }));
    const policy = await loadPolicy({ cwd: repo, configPath: "../elsewhere.json" });
    expect(policy).toMatchObject({ file: other, provider: "github" });
  });

  it("names the file relative to the cwd when inside it, absolute otherwise", async () => {
    write(path.join(nested, "bad.json"), json({ version: 1, stgaes: {} }));
    await expect(loadPolicy({ cwd: repo, configPath: "services/api/bad.json" })).rejects.toThrow(
      /^services\/api\/bad\.json: stgaes: unknown key/,
    );
    const above = write(path.join(repo, ".optoutrc.json"), json({ version: 1, stgaes: {} }));
    await expect(loadPolicy({ cwd: nested })).rejects.toThrow(new RegExp(`^${above}: stgaes`));
    expect(displayPath(above, repo)).toBe(".optoutrc.json");
  });

  it("is a ConfigError (exit 2) when there is no policy, or --config names no file", async () => {
    const none = await loadPolicy({ cwd: nested }).then(unexpected, (e: unknown) => e as ConfigError);
    expect(none).toBeInstanceOf(ConfigError);
    expect(none.exitCode).toBe(2);
    expect(none.message).toMatch(/^no policy file found in /);
    expect(none.hint).toMatch(/optout init/);
    const missing = await loadPolicy({ cwd: repo, configPath: "nope.json" }).then(
      unexpected,
      (e: unknown) => e as ConfigError,
    );
    expect(missing).toBeInstanceOf(ConfigError);
    expect(missing.message).toBe("nope.json: no such file");
  });

  it("reports a JavaScript config that does not load, in one line", async () => {
    write(path.join(repo, "optout.config.mjs"), "export default {\n");
    const err = await loadPolicy({ cwd: repo }).then(unexpected, (e: unknown) => e as PolicyErrors);
    expect(err).toBeInstanceOf(PolicyErrors);
    expect(err.message).toMatch(/^optout\.config\.mjs: cannot load: /);
    expect(err.message).not.toContain("\n");
  });

  it("reports YAML with nothing but comments as empty, and a module without a default export", async () => {
    write(path.join(repo, ".optoutrc.yaml"), "# nothing yet\n");
    await expect(loadPolicy({ cwd: repo })).rejects.toThrow(/^\.optoutrc\.yaml: the file is empty$/);
    write(path.join(nested, "optout.config.mjs"), "export const policy = {};\n");
    await expect(loadPolicy({ cwd: nested })).rejects.toThrow(/^optout\.config\.mjs: exports no policy$/);
  });

  it("reports package.json without an optout key given by --config", async () => {
    write(path.join(repo, "package.json"), json({ name: "shop" }));
    await expect(loadPolicy({ cwd: repo, configPath: "package.json" })).rejects.toThrow(
      'package.json: has no "optout" key',
    );
  });
});
