/** `optout policy check` on the malformed-policy corpus: exit 2, the file and JSON path named, no stack. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { repoRoot, runCli } from "../helpers/world.js";
import { badPolicies, corpusSecrets } from "../policy/corpus.js";

const env = { PATH: process.env.PATH ?? "", NO_COLOR: "1", CI: "true", HOME: "/nonexistent" };

describe("optout policy check (CLI)", () => {
  it.each(badPolicies)("rejects $file", async ({ file, provider, expect: message }) => {
    const args = ["policy", "check", "--config", file, ...(provider ? ["--provider", provider] : [])];
    const r = await runCli(args, { cwd: repoRoot, env });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
    expect(r.stderr.split("\n")[0]).toMatch(/^optout: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    for (const s of corpusSecrets) expect(r.stderr).not.toContain(s);
  });

  it("accepts the shipped example and says what it found", async () => {
    const r = await runCli(["policy", "check", "--config", ".optoutrc.example.json", "--json"], {
      cwd: repoRoot,
      env,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, provider: "github" });
  });

  it("lists every problem of a file, one per line", async () => {
    const r = await runCli(
      ["policy", "check", "--config", "test/fixtures/policies/bad/unknown-key-nested.json", "--json"],
      {
        cwd: repoRoot,
        env,
      },
    );
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc.valid).toBe(false);
    expect(doc.problems.length).toBeGreaterThanOrEqual(1);
    expect(doc.problems[0]).toMatchObject({ path: expect.any(String), message: expect.any(String) });
  });

  it("says where it looked when there is no policy", async () => {
    const dir = await mkdtemp(join(tmpdir(), "optout-nopolicy-"));
    try {
      await execa("git", ["init", "-q"], { cwd: dir });
      const r = await runCli(["policy", "check"], { cwd: dir, env });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^optout: no policy file found in .*optout-nopolicy-\S+ or its parents/m);
      expect(r.stderr).toMatch(/^hint: .*run `optout init`/m);
      // Outside any clone, the first thing to fix is where optout runs.
      const outside = await runCli(["policy", "check"], { cwd: "/", env });
      expect(outside.code).toBe(2);
      expect(outside.stderr).toMatch(/^optout: \/ is not inside a git repository$/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
