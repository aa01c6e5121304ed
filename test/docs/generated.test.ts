/**
 * What docs/ and examples/ state about the code is generated from it (scripts/gen-docs.mjs): the
 * policy reference, the command reference, exit codes, environment, pipeline files. This fails
 * when a file on disk differs from what the script renders now, i.e. when the docs went stale.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fill, render } from "../../scripts/gen-docs.mjs";
import { loadPolicyText } from "../../src/policy/load.js";
import { repoRoot } from "../helpers/world.js";

const read = (file: string) => readFile(join(repoRoot, file), "utf8").catch(() => undefined);

describe("generated docs and examples", () => {
  it("are up to date (run `node scripts/gen-docs.mjs` after changing commands, policy or templates)", async () => {
    const stale: string[] = [];
    for (const [file, text] of await render()) if ((await read(file)) !== text) stale.push(file);
    expect(stale).toEqual([]);
  });

  it("refuses a doc that lost its markers, rather than dropping the section", () => {
    expect(() => fill("# no markers here\n", { commands: "x" }, "docs/commands.md")).toThrow(
      /docs\/commands.md: no <!-- generated:commands:begin -->/,
    );
  });

  it("cover every command and every policy key", async () => {
    const docs = await render();
    const commands = docs.get("docs/commands.md")!;
    for (const c of [
      "skip <stage>",
      "guard <stage>",
      "flag set",
      "rollout",
      "failover",
      "revert <id>",
      "expire",
      "log",
      "init",
    ]) {
      expect(commands).toContain(`### \`optout ${c}`);
    }
    const policy = docs.get("docs/policy.md")!;
    for (const k of [
      "stages.<stage>.mechanism",
      "rollout.artifact.pattern",
      "notify[] (type slack).webhookUrlEnv",
    ]) {
      expect(policy).toContain(`\`${k}\``);
    }
  });

  it("example policies pass `optout policy check`", async () => {
    for (const ci of ["any-ci", "github", "gitlab"]) {
      const file = `examples/${ci}/.optoutrc.json`;
      const policy = await loadPolicyText((await read(file))!, file, { cwd: repoRoot });
      expect(Object.keys(policy.stages), file).toContain("lint");
    }
  });
});

describe("links", () => {
  it("every relative link in README.md, docs/ and examples/ points at a file that exists", async () => {
    const { readdir, stat } = await import("node:fs/promises");
    const docs = (await readdir(join(repoRoot, "docs")))
      .filter((f) => f.endsWith(".md"))
      .map((f) => `docs/${f}`);
    const broken: string[] = [];
    for (const file of ["README.md", "examples/README.md", ...docs]) {
      const text = (await read(file))!;
      for (const m of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        const path = join(repoRoot, file, "..", target);
        if (!(await stat(path).catch(() => undefined))) broken.push(`${file} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe("README.md", () => {
  it("has a Quick start whose fenced block holds exactly the two commands", async () => {
    const readme = (await read("README.md"))!;
    const section = readme.slice(readme.indexOf("## Quick start"));
    const block = /```sh\n([\s\S]*?)\n```/.exec(section)?.[1];
    expect(block?.split("\n")).toEqual(["npm install && npm run demo", "npm test"]);
  });
});
