/** Hardening on plain git: pinning, key retirement, inert text, deny records for every refusal. */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { allowedSignersLine } from "../helpers/keys.js";
import { basePolicy, makeWorld } from "../helpers/world.js";

describe("governance", () => {
  it("a local policy edited to add oneself grants nothing: the default branch's policy decides (exit 3, deny record)", async () => {
    const w = await makeWorld({ people: ["alice", "bob", "mallory"], policy: basePolicy() });
    try {
      const ok = await w.run("alice", ["policy", "check", "--pinned"]);
      expect(ok.code, ok.stderr).toBe(0);
      const file = join(w.work, ".optoutrc.json");
      const policy = JSON.parse(await readFile(file, "utf8"));
      policy.groups.oncall.push("user:mallory");
      await writeFile(file, `${JSON.stringify(policy, null, 2)}\n`);

      const r = await w.run("mallory", ["skip", "lint", "--reason", "I added myself to oncall"]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/mallory may not skip lint/);
      // A dry run reads the local draft, and says so: it is how a policy change is tried before merging.
      const dry = await w.run("mallory", [
        "skip",
        "lint",
        "--reason",
        "I added myself to oncall",
        "--dry-run",
      ]);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout + dry.stderr).toMatch(/using the working copy's \.optoutrc\.json/);
      const check = await w.run("alice", ["policy", "check", "--pinned"]);
      expect(check.code).toBe(3);
      expect(check.stderr).toMatch(/^\+\s+"user:mallory"$/m);

      const log = JSON.parse((await w.run("alice", ["log", "--json"])).stdout).records;
      expect(log).toHaveLength(1);
      expect(log[0]).toMatchObject({ type: "deny", actor: { login: "mallory" } });
      expect((await w.run("alice", ["guard", "lint"])).code).toBe(1);
    } finally {
      await w.cleanup();
    }
  });

  it("a key retired with valid-before keeps its earlier records valid and cannot sign new ones", async () => {
    const w = await makeWorld();
    try {
      // The clock is injected: the skip at t0, the key retired from t0 + 1 min, the rest at t0 + 2 min.
      const t0 = Date.now();
      const at = (ms: number) => ({ env: { OPTOUT_NOW: new Date(t0 + ms).toISOString() } });
      const early = await w.run("alice", ["skip", "lint", "--reason", "before alice's key retires"], at(0));
      expect(early.code, early.stderr).toBe(0);
      // valid-before takes YYYYMMDDHHMMSS; Z = UTC.
      const stamp = new Date(t0 + 60_000).toISOString().replace(/[-:T]/g, "").slice(0, 14);
      const lines = [
        allowedSignersLine("alice", w.keys.alice!.publicLine, `valid-before="${stamp}Z"`),
        allowedSignersLine("bob", w.keys.bob!.publicLine),
      ];
      await w.pushMain({ ".optout/allowed_signers": `${lines.join("\n")}\n` }, "retire alice's key");

      const verify = await w.run("bob", ["log", "--verify"], at(120_000));
      expect(verify.code, verify.stderr).toBe(0);
      expect((await w.run("bob", ["guard", "lint"], at(120_000))).code).toBe(0);
      const late = await w.run(
        "alice",
        ["skip", "e2e", "--reason", "after alice's key retired"],
        at(120_000),
      );
      expect(late.code).toBe(3);
      expect(late.stderr).toMatch(/is not in \.optout\/allowed_signers/);
    } finally {
      await w.cleanup();
    }
  });

  it("a reason with escape sequences or a newline is refused before anything is written", async () => {
    const w = await makeWorld();
    try {
      const evil = "fix \u001b[2J\u001b]0;pwned\u0007 title\u001b[31m red \u202e reversed\r\nforged line";
      const r = await w.run("alice", ["skip", "lint", "--reason", evil]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--reason .* holds a control character/);
      expect(r.stderr).not.toMatch(/[\u001b\u0007\u202e]/);
      expect(JSON.parse((await w.run("bob", ["log", "--json"])).stdout).records).toEqual([]);
    } finally {
      await w.cleanup();
    }
  });
});
