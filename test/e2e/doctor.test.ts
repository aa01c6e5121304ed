/** doctor and auth status on plain git: what is checked, and what a missing key looks like. */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { describe, expect, it } from "vitest";
import { basePolicy, git, makeWorld } from "../helpers/world.js";

describe("doctor and auth status", () => {
  it("reports each check, and fails when the signing key is not allowed", async () => {
    const w = await makeWorld({ unlisted: ["mallory"] });
    try {
      const ok = await w.run("alice", ["doctor", "--json"]);
      expect(ok.code, ok.stdout).toBe(0);
      const doc = JSON.parse(ok.stdout);
      expect(doc.ok).toBe(true);
      expect(doc.checks.map((c: { name: string }) => c.name)).toEqual([
        "git",
        "policy",
        "repository",
        "allowed signers",
        "signing key",
        "signer principal",
        "audit branch",
        "branch protection",
      ]);
      expect(doc.checks.find((c: { name: string }) => c.name === "signer principal").detail).toBe(
        "your key signs as alice",
      );
      expect(doc.checks[0].detail).toMatch(/^git version \d+\.\d+/);

      // A git older than 2.29 (a wrapper that says so, and passes everything else on) fails.
      const bin = join(w.dir, "old-git");
      await mkdir(bin);
      const real = (process.env.PATH ?? "")
        .split(delimiter)
        .map((d) => join(d, "git"))
        .find((p) => existsSync(p));
      await writeFile(
        join(bin, "git"),
        `#!/bin/sh\nif [ "$1" = version ]; then echo "git version 2.25.1"; exit 0; fi\nexec "${real}" "$@"\n`,
        { mode: 0o755 },
      );
      const old = await w.run("alice", ["doctor"], { env: { PATH: `${bin}:${process.env.PATH}` } });
      expect(old.code).toBe(1);
      expect(old.stdout).toMatch(/✗ git: git version 2\.25\.1: optout needs git 2\.29 or later/);

      const bad = await w.run("mallory", ["doctor"]);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toMatch(
        /✗ signer principal: your signing key SHA256:\S+ is not in \.optout\/allowed_signers/,
      );

      const auth = JSON.parse((await w.run("bob", ["auth", "status", "--json"])).stdout);
      expect(auth).toMatchObject({ provider: "git", login: "bob" });
      expect(auth.may).toEqual([
        { what: "skip lint", allowed: true, approvals: 0 },
        { what: "skip e2e", allowed: false, approvals: 0 },
      ]);
    } finally {
      await w.cleanup();
    }
  });

  it("warns when origin names another repository than the policy, or the policy names none", async () => {
    const w = await makeWorld();
    try {
      // origin as a person configured it: a URL naming acme/other, reached through insteadOf.
      const other = "https://git.example.com/acme/other.git";
      await git(w.work, "remote", "set-url", "origin", other);
      await git(w.work, "config", `url.${w.remote}.insteadOf`, other);
      const doc = JSON.parse((await w.run("alice", ["doctor", "--json"])).stdout);
      const repo = doc.checks.find((c: { name: string }) => c.name === "repository");
      expect(repo).toMatchObject({
        status: "warn",
        detail: `origin is ${other}, which names acme/other, not the policy's repo acme/shop`,
      });

      const { repo: _, ...noRepo } = basePolicy();
      await w.pushMain({ ".optoutrc.json": `${JSON.stringify(noRepo)}\n` }, "no repo");
      await git(w.work, "pull", "-q", "origin", "main");
      const text = await w.run("alice", ["doctor"]);
      expect(text.stdout).toMatch(/! repository: the policy names no repo: records are tied to "remote"/);
      expect(text.stdout).toMatch(/add "repo": "acme\/other" to .*\.optoutrc\.json/);
    } finally {
      await w.cleanup();
    }
  });
});
