/**
 * docs/getting-started.md, step by step as a new user types it: `optout init --yes --provider git`
 * in a fresh clone, commit and push, then guard / skip / guard. Each line of the doc's blocks runs
 * verbatim in bash, with the built CLI on PATH as `optout`; a line whose comment says "exit N"
 * must exit N, and one that says "prints X" must print X.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docBlock, optoutOnPath, runShell } from "../docs/helpers.js";
import { git } from "../helpers/world.js";
import { type Fresh, freshRepo } from "./fresh.js";

let r: Fresh;
let env: Record<string, string>;

/** Runs each command line of a doc block on its own, checking what its comment promises. */
async function followBlock(name: string): Promise<string[]> {
  const outputs: string[] = [];
  for (const line of (await docBlock("docs/getting-started.md", name)).split("\n")) {
    if (!line.trim() || line.trim().startsWith("#")) continue;
    const comment = line.includes(" #") ? line.slice(line.indexOf(" #")) : "";
    const res = await runShell("bash", ["-c", line], { cwd: r.work, env });
    const code = Number(/exit (\d+)/.exec(comment)?.[1] ?? 0);
    expect(res.code, `${line}\n${res.stdout}${res.stderr}`).toBe(code);
    const prints = /prints (\w+)/.exec(comment)?.[1];
    if (prints) expect(res.stdout.trim(), line).toBe(prints);
    outputs.push(res.stdout);
  }
  return outputs;
}

beforeAll(async () => {
  r = await freshRepo();
  env = { ...r.env, PATH: `${await optoutOnPath(r.dir)}:${r.env.PATH}` };
});
afterAll(() => r.cleanup());

describe("docs/getting-started.md on plain git", () => {
  it("1. init writes the policy and trusts the key; commit and push put them on main", async () => {
    await followBlock("getting-started:init");
    expect(await git(r.work, "ls-tree", "--name-only", "-r", "origin/main")).toBe(
      ".optout/allowed_signers\n.optoutrc.json",
    );
    const signers = await git(r.work, "show", "origin/main:.optout/allowed_signers");
    expect(signers).toContain(`dana@example.com ${r.key!.publicLine.split(" ").slice(0, 2).join(" ")}`);
    const check = await runShell("bash", ["-c", "optout policy check"], { cwd: r.work, env });
    expect(check.stdout).toMatch(/\.optoutrc\.json: valid \(provider git; 1 stage/);
  });

  it("2. guard says run, skip waives lint, guard says skip, the ledger verifies", async () => {
    const out = await followBlock("getting-started:try");
    expect(out[3]).toMatch(/dana@example\.com\s+.*left\s+skip lint@main/);
    expect(out[4]).toMatch(/verified 1 record/);
  });

  it("3. revert undoes it", async () => {
    const status = await runShell("bash", ["-c", "optout status --json"], { cwd: r.work, env });
    const id = JSON.parse(status.stdout).active[0].id as string;
    const revert = await runShell("bash", ["-c", `optout revert ${id} --reason "linter fixed upstream"`], {
      cwd: r.work,
      env,
    });
    expect(revert.code, revert.stderr).toBe(0);
    const guard = await runShell("bash", ["-c", "optout guard lint"], { cwd: r.work, env });
    expect([guard.code, guard.stdout.trim()]).toEqual([1, "run"]);
  });

  it("4. init --write adds the guard wrapper, which skips a waived stage", async () => {
    expect((await r.init("--yes", "--write")).code).toBe(0);
    const skip = await runShell(
      "bash",
      ["-c", 'optout skip lint --reason "linter crashes on node 22, INC-4411"'],
      {
        cwd: r.work,
        env,
      },
    );
    expect(skip.code, skip.stderr).toBe(0);
    const wrapped = await runShell("sh", [".optout/guard.sh", "lint", "sh", "-c", "echo linting"], {
      cwd: r.work,
      env,
    });
    expect(wrapped.code).toBe(0);
    expect(wrapped.stdout).not.toContain("linting");
  });
});
