/**
 * Interrupts and closed streams with real signals and real processes: Ctrl-C typed on a
 * pseudo-terminal (SIGINT to the whole foreground group, as a terminal sends it) or SIGINT to
 * optout alone (as `kill -INT` does), during a ledger push held by a pre-receive hook and during a
 * rollout command; `--timeout` on plain git; a reader that closes the pipe mid-operation.
 * Nothing here sleeps to make a verdict: the hook and the command wait on files the test creates.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { terminal } from "../helpers/terminal.js";
import { basePolicy, cliPath, makeWorld, type World } from "../helpers/world.js";

const artifact = `registry.example/shop@sha256:${"c".repeat(64)}`;
const reason = "incident INC-9: rolling back checkout";

/** Logs "start"/"done" to DEPLOY_LOG; with WAIT_FOR set, waits for that file between the two. */
const deploy = `
import { appendFileSync, existsSync } from "node:fs";
const log = (s) => appendFileSync(process.env.DEPLOY_LOG, s + "\\n");
if (process.env.IGNORE_TERM) process.on("SIGTERM", () => log("ignored SIGTERM"));
log("start " + process.argv[2]);
if (process.env.WAIT_FOR) {
  await new Promise((r) => {
    const t = setInterval(() => existsSync(process.env.WAIT_FOR) && (clearInterval(t), r()), 20);
  });
}
log("done " + process.argv[2]);
`;

/** Holds the audit branch's pushes while \`hold\` exists, until \`release\` does; says when it waits. */
function holdHook(dir: string): string {
  return `#!/bin/sh
if [ -f "${dir}/hold" ]; then
  touch "${dir}/hook-waiting"
  while [ ! -f "${dir}/release" ]; do sleep 0.05; done
fi
exit 0
`;
}

interface Lab {
  w: World;
  env(person: string, extra?: Record<string, string>): Record<string, string>;
  run: World["run"];
  deployLog(): Promise<string[]>;
  waitForFile(name: string): Promise<void>;
  touch(name: string): Promise<void>;
  remove(name: string): Promise<void>;
  lastRecord(): Promise<Record<string, unknown>>;
  cleanup(): Promise<void>;
}

async function lab(): Promise<Lab> {
  const scripts = await mkdtemp(join(tmpdir(), "optout-interrupt-"));
  await writeFile(join(scripts, "deploy.mjs"), deploy);
  const w = await makeWorld({
    policy: basePolicy({
      rollout: {
        command: [process.execPath, join(scripts, "deploy.mjs"), "{artifact}"],
        environments: ["staging"],
        artifact: { pattern: "^registry\\.example/shop@sha256:[0-9a-f]{64}$" },
        allow: ["user:alice", "user:bob"],
      },
    }),
  });
  const hook = join(w.remote, "hooks", "pre-receive");
  await writeFile(hook, holdHook(w.dir));
  await chmod(hook, 0o755);
  const deployLog = join(w.dir, "deploy.log");
  const env = (person: string, extra: Record<string, string> = {}) => ({
    ...w.env(person),
    DEPLOY_LOG: deployLog,
    ...extra,
  });
  const run: World["run"] = (p, a, o = {}) => w.run(p, a, { ...o, env: { DEPLOY_LOG: deployLog, ...o.env } });
  return {
    w,
    env,
    run,
    deployLog: async () =>
      existsSync(deployLog) ? (await readFile(deployLog, "utf8")).trim().split("\n") : [],
    waitForFile: async (name) => {
      // Polls for a file a process creates; the bound only turns a hang into a readable failure.
      for (let i = 0; i < 900 && !existsSync(join(w.dir, name)); i++)
        await new Promise((r) => setTimeout(r, 50));
      if (!existsSync(join(w.dir, name))) throw new Error(`${name} never appeared`);
    },
    touch: (name) => writeFile(join(w.dir, name), ""),
    remove: (name) => rm(join(w.dir, name), { force: true }),
    lastRecord: async () =>
      JSON.parse((await run("bob", ["log", "--json", "--limit", "1"])).stdout).records[0],
    cleanup: async () => {
      // Let any hook still waiting go, then remove everything.
      await writeFile(join(w.dir, "release"), "").catch(() => {});
      await w.cleanup();
      await rm(scripts, { recursive: true, force: true });
    },
  };
}

async function until(what: () => boolean, label: string): Promise<void> {
  // The bound only turns a hang into a readable failure.
  for (let i = 0; i < 900 && !what(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!what()) throw new Error(`never saw ${label}`);
}

function spawnCli(l: Lab, args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: l.w.work,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on("close", (c) => r(c)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

const rollout = ["rollout", "--artifact", artifact, "--env", "staging", "--reason", reason, "--yes"];

describe("Ctrl-C during a ledger push", () => {
  it("typed on a terminal: the push dies with the process group, nothing lands, exit 130", async () => {
    const l = await lab();
    try {
      await l.touch("hold");
      const s = terminal(l.w, "alice", ["skip", "lint", "--reason", "the linter is broken", "--yes"]);
      await l.waitForFile("hook-waiting");
      s.type("\x03");
      expect(await s.done).toBe(130);
      expect(s.output()).toMatch(
        /interrupted \(Ctrl-C\) while pushing the skip record: it did not land; nothing was changed/,
      );
      await l.touch("release");
      expect(JSON.parse((await l.run("bob", ["log", "--json"])).stdout).records).toEqual([]);
      expect((await l.run("bob", ["guard", "lint"])).code).toBe(1);
      expect(JSON.parse((await l.run("alice", ["status", "--json"])).stdout).queued).toEqual([]);
    } finally {
      await l.cleanup();
    }
  });

  it("SIGINT to optout alone: it waits for the remote's answer, then does not apply the rollout", async () => {
    const l = await lab();
    try {
      await l.touch("hold");
      const p = spawnCli(l, rollout, l.env("alice"));
      await l.waitForFile("hook-waiting");
      p.child.kill("SIGINT");
      await until(() => /waiting for origin to accept or refuse/.test(p.stderr()), "the wait announced");
      await l.remove("hold");
      await l.touch("release");
      expect(await p.exited).toBe(130);
      // The intent landed (the remote took it); the command never ran; a result says so.
      expect(await l.deployLog()).toEqual([]);
      expect(p.stderr()).toMatch(/interrupted \(Ctrl-C\) before roll out to staging; it was not started/);
      expect(await l.lastRecord()).toMatchObject({
        type: "result",
        outcome: "failed",
        error: expect.stringMatching(/not started/),
      });
      expect(JSON.parse((await l.run("bob", ["status", "--json"])).stdout).unfinished).toEqual([]);
    } finally {
      await l.cleanup();
    }
  });
});

describe("Ctrl-C during a rollout command", () => {
  it("typed on a terminal: the command stops, a result is recorded, exit 130", async () => {
    const l = await lab();
    try {
      const s = terminal(l.w, "alice", rollout, { env: l.env("alice", { WAIT_FOR: join(l.w.dir, "go") }) });
      await until(() => existsSync(join(l.w.dir, "deploy.log")), "the command start");
      s.type("\x03");
      expect(await s.done).toBe(130);
      expect(s.output()).toMatch(/optout: interrupted/);
      expect(s.output()).not.toMatch(/unexpected error/);
      expect(await l.deployLog()).toEqual([`start ${artifact}`]);
      const last = await l.lastRecord();
      // The result says so: interrupted, or (when the command died of the same Ctrl-C before optout heard
      // it) ended by SIGINT.
      expect(last).toMatchObject({ type: "result", error: expect.stringMatching(/interrupt|SIGINT/) });
      expect(last.outcome).not.toBe("applied");
      expect(JSON.parse((await l.run("bob", ["status", "--json"])).stdout).unfinished).toEqual([]);
    } finally {
      await l.cleanup();
    }
  });
});

describe("--timeout on plain git", () => {
  it("stops the command at the limit and records that the outcome is unknown", async () => {
    const l = await lab();
    try {
      const r = await l.run("alice", [...rollout, "--wait", "--timeout", "2s"], {
        env: { WAIT_FOR: join(l.w.dir, "never") },
      });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/stopped if it runs longer than 2s/);
      expect(r.stderr).toMatch(
        /rollout command did not finish within 2s: stopped it \(SIGTERM, SIGKILL after 5s\); whether it took effect is unknown/,
      );
      expect(await l.deployLog()).toEqual([`start ${artifact}`]);
      const last = await l.lastRecord();
      expect(last).toMatchObject({ type: "result", error: expect.stringMatching(/unknown/) });
      expect(last.outcome).not.toBe("applied");
    } finally {
      await l.cleanup();
    }
  });

  it("a command that ignores SIGTERM is killed after the grace period", async () => {
    const l = await lab();
    try {
      const r = await l.run("alice", [...rollout, "--timeout", "1s"], {
        env: { WAIT_FOR: join(l.w.dir, "never"), IGNORE_TERM: "1" },
      });
      expect(r.code, r.stderr).toBe(1);
      expect(await l.deployLog()).toEqual([`start ${artifact}`, "ignored SIGTERM"]);
      expect((await l.lastRecord()).type).toBe("result");
    } finally {
      await l.cleanup();
    }
  });
});

describe("closed streams", () => {
  it("`optout rollout … 2>&1 | head -1`: the reader leaves, the rollout goes on to its result", async () => {
    const l = await lab();
    try {
      const p = spawnCli(l, rollout, l.env("alice", { WAIT_FOR: join(l.w.dir, "go") }));
      // Like `head -1`: read the first line, then close both pipes while the command runs.
      await until(() => p.stderr().includes("\n"), "a first line");
      await until(() => existsSync(join(l.w.dir, "deploy.log")), "the command start");
      p.child.stdout.destroy();
      p.child.stderr.destroy();
      await l.touch("go");
      expect(await p.exited).toBe(0);
      expect(await l.deployLog()).toEqual([`start ${artifact}`, `done ${artifact}`]);
      expect(await l.lastRecord()).toMatchObject({ type: "result", outcome: "applied" });
    } finally {
      await l.cleanup();
    }
  });
});

describe("progress", () => {
  it("a spinner on a terminal says what optout waits on; a log gets one line per state", async () => {
    const l = await lab();
    try {
      const s = terminal(l.w, "alice", rollout, {
        env: l.env("alice", { WAIT_FOR: join(l.w.dir, "go"), TERM: "xterm-256color" }),
        columns: 100,
      });
      await until(() => /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] running the rollout command/.test(s.output()), "the spinner");
      await l.touch("go");
      expect(await s.done).toBe(0);

      await l.remove("go");
      await l.remove("deploy.log");
      const p = spawnCli(l, rollout, l.env("alice", { WAIT_FOR: join(l.w.dir, "go") }));
      await until(() => existsSync(join(l.w.dir, "deploy.log")), "the command start");
      await l.touch("go");
      expect(await p.exited).toBe(0);
      expect(p.stderr().match(/^running the rollout command$/gm)).toHaveLength(1);
      expect(p.stderr()).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    } finally {
      await l.cleanup();
    }
  });
});
