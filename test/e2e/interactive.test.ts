/**
 * Interactive mode on a real pseudo-terminal (util-linux `script`): missing values are asked
 * for, the plan is shown, and nothing happens until it is confirmed.
 */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { cliPath, makeWorld, type World } from "../helpers/world.js";

interface Session {
  output: () => string;
  waitFor: (text: RegExp) => Promise<void>;
  type: (keys: string) => void;
  done: Promise<number | null>;
}

function terminal(w: World, person: string, args: string[]): Session {
  // No CI variable: a person at a terminal.
  const env: Record<string, string> = { ...w.env(person), TERM: "dumb", NO_COLOR: "1" };
  delete env.CI;
  const command = [process.execPath, cliPath, ...args].map((a) => `'${a}'`).join(" ");
  const child = spawn("script", ["-qfec", command, "/dev/null"], {
    cwd: w.work,
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  return {
    output: () => out,
    waitFor: async (text) => {
      for (let i = 0; i < 300; i++) {
        if (text.test(out)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`timed out waiting for ${text}; screen so far:\n${out}`);
    },
    type: (keys) => child.stdin.write(keys),
    done: new Promise((r) => child.on("close", (c) => r(c))),
  };
}

describe("interactive mode", () => {
  it("asks for the reason, shows the plan, and applies only when confirmed", async () => {
    const w = await makeWorld();
    try {
      const s = terminal(w, "alice", ["skip", "lint"]);
      await s.waitFor(/Reason \(at least 15 characters\)/);
      s.type("linter crashes on node 22\r");
      await s.waitFor(/Go ahead\?/);
      expect(s.output()).toMatch(/plan: will waive stage lint on ref main/);
      s.type("y\r");
      expect(await s.done).toBe(0);
      expect(s.output()).toMatch(/waived lint on main/);
      expect((await w.run("bob", ["guard", "lint"])).code).toBe(0);

      const no = terminal(w, "alice", ["flag", "set"]);
      await no.waitFor(/no flag|missing|Which flag/);
      expect(await no.done).toBe(2);
    } finally {
      await w.cleanup();
    }
  });

  it("declining the confirmation changes nothing", async () => {
    const w = await makeWorld();
    try {
      const s = terminal(w, "alice", ["skip", "lint", "--reason", "linter crashes on node 22"]);
      await s.waitFor(/Go ahead\?/);
      s.type("n\r");
      expect(await s.done).toBe(2);
      expect(s.output()).toMatch(/cancelled; nothing was changed/);
      expect(JSON.parse((await w.run("bob", ["log", "--json"])).stdout)).toEqual([]);
    } finally {
      await w.cleanup();
    }
  });
});
