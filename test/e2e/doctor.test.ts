/** doctor and auth status on plain git: what is checked, and what a missing key looks like. */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeWorld } from "../helpers/world.js";

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
});
