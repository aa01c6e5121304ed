/** guard relies on signed records, not on the index: a doctored index or record gives "run". */
import { describe, expect, it } from "vitest";
import { allowedSignersLine } from "../helpers/keys.js";
import { forcePush, readBlob, readSteps, recordPathOf, replay, writeBlob } from "../helpers/tamper.js";
import { git, makeWorld } from "../helpers/world.js";

const ref = "refs/remotes/origin/optout/audit";

describe("guard trusts records, not the index", () => {
  it("a stale state/active.json that still lists a reverted override does not make guard say skip", async () => {
    const w = await makeWorld();
    try {
      const skip = JSON.parse(
        (await w.run("alice", ["skip", "lint", "--reason", "linter is broken today", "--json"])).stdout,
      );
      expect((await w.run("bob", ["revert", skip.id])).code).toBe(0);
      expect((await w.run("bob", ["guard", "lint"])).code).toBe(1);
      await git(w.work, "fetch", "-q", "origin", `+refs/heads/optout/audit:${ref}`);
      const s = await readSteps(w.work, ref);
      // Put back the index as it was before the revert, in a commit on top.
      s.push({
        message: "refresh index",
        files: new Map([["state/active.json", s[0]!.files.get("state/active.json")!]]),
      });
      await forcePush(w.work, await replay(w.work, s));
      // Readers go by the records, not the index: nothing is in force.
      const stale = JSON.parse((await w.run("bob", ["status", "--json"])).stdout);
      expect(stale.active).toEqual([]);
      const g = await w.run("bob", ["guard", "lint", "--json"]);
      expect(g.code).toBe(1);
      expect(JSON.parse(g.stdout).ignored[0].why).toMatch(/^ended by /);
    } finally {
      await w.cleanup();
    }
  });

  it("an edited record in force is not honoured", async () => {
    const w = await makeWorld();
    try {
      expect(
        (
          await w.run("alice", [
            "skip",
            "lint",
            "--reason",
            "linter is broken today",
            "--ref",
            "dev",
            "--allow-missing-ref",
          ])
        ).code,
      ).toBe(0);
      await git(w.work, "fetch", "-q", "origin", `+refs/heads/optout/audit:${ref}`);
      const s = await readSteps(w.work, ref);
      const path = recordPathOf(s[0]!);
      const text = await readBlob(w.work, s[0]!.files.get(path)!);
      // Widen the waiver from dev to main: the signature no longer matches.
      const forged = text.replace('"ref":"dev"', '"ref":"main"');
      s[0]!.files.set(path, await writeBlob(w.work, forged));
      const index = await readBlob(w.work, s[0]!.files.get("state/active.json")!);
      s[0]!.files.set(
        "state/active.json",
        await writeBlob(w.work, index.replace('"ref": "dev"', '"ref": "main"')),
      );
      // The commit's nomination too: the forger controls every byte that is not signed.
      s[0]!.message = s[0]!.message.replace('"ref":"dev"', '"ref":"main"');
      await forcePush(w.work, await replay(w.work, s));
      const g = await w.run("bob", ["guard", "lint", "--ref", "main", "--json"]);
      expect(g.code).toBe(1);
      expect(JSON.parse(g.stdout).ignored[0].why).toMatch(/signature does not verify/);
    } finally {
      await w.cleanup();
    }
  });

  it("a record whose signer was removed from allowed_signers is not honoured", async () => {
    const w = await makeWorld();
    try {
      expect((await w.run("bob", ["skip", "lint", "--reason", "linter is broken today"])).code).toBe(0);
      expect((await w.run("alice", ["guard", "lint"])).code).toBe(0);
      await w.pushMain(
        { ".optout/allowed_signers": `${allowedSignersLine("alice", w.keys.alice!.publicLine)}\n` },
        "bob leaves",
      );
      const g = await w.run("alice", ["guard", "lint", "--json"]);
      expect(g.code).toBe(1);
      expect(JSON.parse(g.stdout).ignored[0].why).toMatch(
        /signer "bob" with this key is not in allowed_signers/,
      );
    } finally {
      await w.cleanup();
    }
  });

  it("--format github writes skip=true|false to $GITHUB_OUTPUT", async () => {
    const w = await makeWorld();
    try {
      const out = `${w.dir}/gh-output`;
      const env = { GITHUB_OUTPUT: out, GITHUB_REF_NAME: "main" };
      expect((await w.run("alice", ["guard", "lint", "--format", "github"], { env })).code).toBe(1);
      await w.run("alice", ["skip", "lint", "--reason", "linter is broken today"]);
      expect((await w.run("alice", ["guard", "lint", "--format", "github"], { env })).code).toBe(0);
      const { readFile } = await import("node:fs/promises");
      expect(await readFile(out, "utf8")).toBe("skip=false\nskip=true\n");
    } finally {
      await w.cleanup();
    }
  });
});
