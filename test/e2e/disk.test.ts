/**
 * The clone itself failing: a read-only checkout and a full disk (real ones, made with a mount in a
 * user namespace: a bind mount remounted read-only, a tmpfs filled to the last byte), and the temp
 * files of a writer killed outright.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cliPath, makeWorld, type RunResult, type World } from "../helpers/world.js";

/** Mount namespaces need unprivileged user namespaces (or root); most Linux hosts allow them. */
const namespaces =
  spawnSync("unshare", ["--user", "--map-root-user", "--mount", "true"], { stdio: "ignore" }).status === 0;

/** Runs the CLI after `setup` (a shell line, run in the clone) in a mount namespace of its own. */
function runMounted(
  w: World,
  person: string,
  setup: string,
  args: string[],
  env: Record<string, string> = {},
) {
  return new Promise<RunResult>((resolve) => {
    const child = spawn(
      "unshare",
      [
        "--user",
        "--map-root-user",
        "--mount",
        "sh",
        "-c",
        `${setup} && cd "$PWD" && exec "$0" "$@"`,
        process.execPath,
        cliPath,
        ...args,
      ],
      { cwd: w.work, env: { ...w.env(person), ...env }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const readOnly = 'mount --bind "$PWD" "$PWD" && mount -o remount,bind,ro "$PWD"';
/** optout's own state under .git/optout on a tmpfs with not a byte left. */
const diskFull =
  "mkdir -p .git/optout && mount -t tmpfs -o size=64k tmpfs .git/optout && { cat /dev/zero > .git/optout/fill 2>/dev/null; true; }";

describe.skipIf(!namespaces)("a clone that cannot be written", () => {
  it("log --verify in a read-only checkout warns about the anchor and its verdict stands", async () => {
    const w = await makeWorld();
    try {
      expect((await w.run("alice", ["skip", "lint", "--reason", "the linter is broken"])).code).toBe(0);
      const r = await runMounted(w, "bob", readOnly, ["log", "--verify"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^verified 1 record\(s\)/);
      expect(r.stderr).toMatch(
        /warning: cannot write .*anchor.* \(EROFS\): this clone will not remember the verified tip/,
      );
      expect(r.stderr).not.toMatch(/unexpected error/);
    } finally {
      await w.cleanup();
    }
  });

  it("a full disk: one clear line, exit 1, no stack", async () => {
    const w = await makeWorld();
    try {
      // The remote away, the record must be kept locally: on a disk with no room left.
      expect((await w.run("alice", ["status"])).code).toBe(0);
      await rename(w.remote, `${w.remote}.away`);
      const r = await runMounted(w, "alice", diskFull, ["skip", "lint", "--reason", "the linter is broken"], {
        OPTOUT_APPEND_TIMEOUT_MS: "1000",
      });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^optout: the disk is full \(ENOSPC\)/m);
      expect(r.stderr).toMatch(/^hint: free some space/m);
      expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
    } finally {
      await w.cleanup();
    }
  });
});

describe("writers killed mid-append", () => {
  it("the next append removes the temp objects of a dead writer; git fsck stays clean", async () => {
    const w = await makeWorld();
    try {
      const objects = join(w.work, ".git", "objects");
      // What a writer SIGKILLed between writing an object and renaming it leaves behind; the pid
      // is beyond Linux's pid_max, so no process has it. A live writer's temp file stays.
      await mkdir(join(objects, "ab"), { recursive: true });
      const dead = join(objects, "ab", ".tmp-4194305-deadwriter");
      const live = join(objects, "ab", `.tmp-${process.pid}-livewriter`);
      await writeFile(dead, "partial");
      await writeFile(live, "partial");
      expect((await w.run("alice", ["skip", "lint", "--reason", "the linter is broken"])).code).toBe(0);
      expect(existsSync(dead)).toBe(false);
      expect(existsSync(live)).toBe(true);
      await rm(live);
      const fsck = spawnSync("git", ["fsck", "--no-dangling"], { cwd: w.work, encoding: "utf8" });
      expect(fsck.status).toBe(0);
      expect(`${fsck.stdout}${fsck.stderr}`).not.toMatch(/bad|garbage|tmp/i);
    } finally {
      await w.cleanup();
    }
  });
});
