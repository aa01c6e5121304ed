/** Faults at the remote: rejected pushes, an unreachable remote, and the local queue that saves the day. */
import { existsSync } from "node:fs";
import { chmod, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { basePolicy, git, makeWorld } from "../helpers/world.js";

describe("remote faults", () => {
  it("a remote that rejects pushes for a while: the append retries and lands once", async () => {
    const w = await makeWorld();
    try {
      // A pre-receive hook that refuses the audit branch's first three pushes.
      const hook = join(w.remote, "hooks", "pre-receive");
      await writeFile(
        hook,
        `#!/bin/sh\nn=$(cat "${w.dir}/rejects" 2>/dev/null || echo 0)\nif [ "$n" -lt 3 ]; then echo $((n+1)) > "${w.dir}/rejects"; echo "busy, try later" >&2; exit 1; fi\nexit 0\n`,
      );
      await chmod(hook, 0o755);
      const r = await w.run("alice", ["skip", "lint", "--reason", "the linter is broken", "--json"], {
        env: { OPTOUT_APPEND_TIMEOUT_MS: "30000" },
      });
      expect(r.code, r.stderr).toBe(0);
      const log = JSON.parse((await w.run("bob", ["log", "--json"])).stdout).records;
      expect(log.map((x: { id: string }) => x.id)).toEqual([JSON.parse(r.stdout).id]);
      expect((await w.run("bob", ["log", "--verify"])).code).toBe(0);
    } finally {
      await w.cleanup();
    }
  });

  it("an unreachable remote: the record waits in the local queue (exit 5) and sync pushes it", async () => {
    const w = await makeWorld();
    try {
      // Fetch allowed_signers and the policy first, as a clone that worked yesterday would have them.
      expect((await w.run("alice", ["status"])).code).toBe(0);
      await rename(w.remote, `${w.remote}.away`);
      const r = await w.run("alice", ["skip", "lint", "--reason", "the linter is broken", "--json"], {
        env: { OPTOUT_APPEND_TIMEOUT_MS: "1500" },
      });
      expect(r.code).toBe(5);
      expect(JSON.parse(r.stdout).error.message).toMatch(/recorded locally but not pushed yet/);
      expect(r.stderr).toMatch(/run `optout sync`/);
      const status = await w.run("alice", ["status", "--json"]);
      expect(JSON.parse(status.stdout).queued).toHaveLength(1);
      const stillDown = await w.run("alice", ["sync"], { env: { OPTOUT_APPEND_TIMEOUT_MS: "1000" } });
      expect(stillDown.code).toBe(5);

      await rename(`${w.remote}.away`, w.remote);
      const sync = await w.run("alice", ["sync", "--json"]);
      expect(sync.code, sync.stderr).toBe(0);
      expect(JSON.parse(sync.stdout).pushed).toHaveLength(1);
      expect((await w.run("bob", ["guard", "lint"])).code).toBe(0);
      expect(JSON.parse((await w.run("alice", ["status", "--json"])).stdout).queued).toEqual([]);
      expect((await w.run("bob", ["log", "--verify"])).code).toBe(0);
    } finally {
      await w.cleanup();
    }
  });

  it("guard exits 2 (an error, not an answer) when the remote cannot be asked", async () => {
    const w = await makeWorld();
    try {
      await w.run("alice", ["skip", "lint", "--reason", "the linter is broken"]);
      await rename(w.remote, `${w.remote}.away`);
      const g = await w.run("bob", ["guard", "lint"]);
      expect(g.code).toBe(2);
      expect(g.stdout).toBe("");
      expect(g.stderr).toMatch(/^optout: cannot fetch the audit branch from origin/);
      // git's own words for the cause, not its closing advice ("and the repository exists.").
      expect(g.stderr.split("\n")[0]).toMatch(/: '.*remote\.git' does not appear to be a git repository$/);
    } finally {
      await w.cleanup();
    }
  });

  it("a rollout whose intent cannot be pushed is not started, and nothing is left for sync to push", async () => {
    const w = await makeWorld();
    const ran = join(w.dir, "ran");
    await w.pushMain(
      {
        ".optoutrc.json": `${JSON.stringify(
          basePolicy({
            rollout: {
              command: [process.execPath, "-e", "require('fs').writeFileSync(process.argv[1], 'ran')", ran],
              environments: ["staging"],
              artifact: { pattern: "^shop@sha256:[0-9a-f]{64}$" },
              allow: ["user:alice"],
            },
          }),
        )}\n`,
      },
      "rollout",
    );
    try {
      await git(w.work, "pull", "-q", "origin", "main");
      // allowed_signers and the policy fetched, as a clone that worked yesterday would have them.
      expect((await w.run("alice", ["status"])).code).toBe(0);
      await rename(w.remote, `${w.remote}.away`);
      const args = ["rollout", "--artifact", `shop@sha256:${"a".repeat(64)}`, "--env", "staging"];
      const r = await w.run("alice", [...args, "--reason", "incident INC-7, roll back"], {
        env: { OPTOUT_APPEND_TIMEOUT_MS: "1500" },
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /roll out to staging was not started: its intent record could not be pushed \(cannot reach remote origin/,
      );
      expect(r.stderr).toMatch(/nothing is kept for `optout sync`/);
      expect(r.stderr).not.toMatch(/kept locally/);
      expect(existsSync(ran)).toBe(false);
      expect(JSON.parse((await w.run("alice", ["status", "--json"])).stdout).queued).toEqual([]);

      await rename(`${w.remote}.away`, w.remote);
      expect((await w.run("alice", ["sync"])).stdout.trim()).toBe("nothing to sync");
      expect(JSON.parse((await w.run("bob", ["log", "--json"])).stdout).records).toEqual([]);
      expect(existsSync(ran)).toBe(false);
    } finally {
      await w.cleanup();
    }
  });

  it("a runner checkout (no origin/HEAD) with the remote away reports the network, not the checkout", async () => {
    const w = await makeWorld();
    try {
      await git(w.work, "remote", "set-head", "origin", "--delete");
      await rename(w.remote, `${w.remote}.away`);
      const r = await w.run("alice", ["skip", "lint", "--reason", "the linter is broken"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^optout: cannot reach remote "origin": '.*remote\.git' does not appear to be a git repository$/m,
      );
      expect(r.stderr).not.toMatch(/default branch|set-head/);
    } finally {
      await w.cleanup();
    }
  });
});
