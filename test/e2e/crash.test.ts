/**
 * Crash consistency with real processes: the CLI is SIGKILLed between its intent record and its
 * result (by the deploy command it runs, at a known step), or interrupted with SIGINT; `status`
 * shows the half-done operation and `sync` settles it without running anything again.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { basePolicy, cliPath, makeWorld, type World } from "../helpers/world.js";

const digest = (c: string) => `registry.example/shop@sha256:${c.repeat(64)}`;
const reason = "incident INC-9: rolling back checkout";

/** Logs "start <artifact>" and "done <artifact>"; CRASH=before|after SIGKILLs optout (its parent) at that step. */
const script = `
import { appendFileSync } from "node:fs";
const log = (s) => appendFileSync(process.env.DEPLOY_LOG, s + "\\n");
log("start " + process.argv[2]);
if (process.env.CRASH === "before") {
  process.kill(process.ppid, "SIGKILL");
  process.exit(0);
}
if (process.env.DEPLOY_SLEEP) await new Promise((r) => setTimeout(r, Number(process.env.DEPLOY_SLEEP)));
log("done " + process.argv[2]);
if (process.env.CRASH === "after") process.kill(process.ppid, "SIGKILL");
`;

async function world(): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), "optout-crash-"));
  await writeFile(join(dir, "deploy.mjs"), script);
  const w = await makeWorld({
    policy: basePolicy({
      rollout: {
        command: [process.execPath, join(dir, "deploy.mjs"), "{artifact}"],
        environments: ["staging"],
        artifact: { pattern: "^registry\\.example/shop@sha256:[0-9a-f]{64}$" },
        allow: ["user:alice", "user:bob"],
      },
    }),
  });
  const run = w.run;
  w.run = (p, a, o = {}) => run(p, a, { ...o, env: { DEPLOY_LOG: join(w.dir, "deploy.log"), ...o.env } });
  return w;
}

async function deployLog(w: World): Promise<string[]> {
  const f = join(w.dir, "deploy.log");
  return existsSync(f) ? (await readFile(f, "utf8")).trim().split("\n") : [];
}

describe("crash consistency", () => {
  for (const when of ["before", "after"] as const) {
    it(`SIGKILL ${when} the change: status shows it, sync settles it once, nothing runs twice`, async () => {
      const w = await world();
      try {
        const r = await w.run(
          "alice",
          ["rollout", "--artifact", digest("a"), "--env", "staging", "--reason", reason],
          {
            env: { CRASH: when },
          },
        );
        // Killed by a signal: no exit code of its own (runCli reports -1).
        expect(r.code).toBe(-1);
        const status = JSON.parse((await w.run("bob", ["status", "--json"])).stdout);
        expect(status.unfinished).toHaveLength(1);
        const id = status.unfinished[0].id;
        expect((await w.run("bob", ["status"])).stdout).toMatch(
          /Unfinished \(outcome not known: run optout sync\)/,
        );

        // Alice's process is gone: sync on her clone settles at once; nothing is re-run.
        const before = await deployLog(w);
        const sync = await w.run("alice", ["sync", "--json"]);
        expect(sync.code, sync.stderr).toBe(0);
        const out = JSON.parse(sync.stdout);
        // Plain git cannot read back what a command did: the outcome stays unknown, and says so.
        expect(out.settled).toEqual([
          { id, outcome: "unknown", why: expect.stringMatching(/process carrying it out is gone/) },
        ]);
        expect(await deployLog(w)).toEqual(before);
        expect(before).toEqual(
          when === "before" ? [`start ${digest("a")}`] : [`start ${digest("a")}`, `done ${digest("a")}`],
        );

        const after = JSON.parse((await w.run("bob", ["status", "--json"])).stdout);
        expect(after.unfinished).toEqual([]);
        // It may be live: it stands in force, marked unknown, so it can be reverted.
        expect(after.active).toMatchObject([{ id, outcome: "unknown" }]);
        const last = JSON.parse((await w.run("bob", ["log", "--json", "--limit", "1"])).stdout).records[0];
        expect(last).toMatchObject({
          type: "result",
          outcome: "unknown",
          links: { intent: id },
          settledBy: "sync",
        });
        expect((await w.run("alice", ["sync"])).stdout.trim()).toBe("nothing to sync");
        expect((await w.run("bob", ["log", "--verify"])).code).toBe(0);
      } finally {
        await w.cleanup();
      }
    });
  }

  it("another machine leaves a recent unfinished operation alone until --settle-after", async () => {
    const w = await world();
    try {
      await w.run("alice", ["rollout", "--artifact", digest("b"), "--env", "staging", "--reason", reason], {
        env: { CRASH: "after" },
      });
      const other = await w.clone("other");
      const waiting = JSON.parse((await w.run("bob", ["sync", "--json"], { cwd: other })).stdout);
      expect(waiting.settled).toEqual([]);
      expect(waiting.waiting[0].why).toMatch(/may still be running elsewhere/);
      const settled = JSON.parse(
        (
          await w.run("bob", ["sync", "--json", "--settle-after", "1h"], {
            cwd: other,
            // Two hours on: the operation is older than --settle-after without waiting for it.
            env: { OPTOUT_NOW: new Date(Date.now() + 2 * 3_600_000).toISOString() },
          })
        ).stdout,
      );
      expect(settled.settled).toHaveLength(1);
    } finally {
      await w.cleanup();
    }
  });

  it("Ctrl-C during an override stops the command, records what happened and exits 130", async () => {
    const w = await world();
    try {
      const env = { ...w.env("alice"), DEPLOY_LOG: join(w.dir, "deploy.log"), DEPLOY_SLEEP: "20000" };
      const child = spawn(
        process.execPath,
        [cliPath, "rollout", "--artifact", digest("c"), "--env", "staging", "--reason", reason],
        {
          cwd: w.work,
          env,
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((r) => child.on("close", (c) => r(c)));
      for (let i = 0; i < 200 && !(await deployLog(w)).length; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(await deployLog(w)).toEqual([`start ${digest("c")}`]);
      child.kill("SIGINT");
      expect(await exited).toBe(130);
      expect(stderr).toMatch(/interrupted \(Ctrl-C\) while roll out to staging/);
      expect(await deployLog(w)).toEqual([`start ${digest("c")}`]);
      const last = JSON.parse((await w.run("bob", ["log", "--json", "--limit", "1"])).stdout).records[0];
      // The command was stopped part-way: whether staging changed is not known, and the record says so.
      expect(last).toMatchObject({
        type: "result",
        outcome: "unknown",
        error: expect.stringMatching(/interrupted/),
      });
      expect(JSON.parse((await w.run("bob", ["status", "--json"])).stdout).unfinished).toEqual([]);
    } finally {
      await w.cleanup();
    }
  });
});
