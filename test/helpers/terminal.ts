/**
 * A real pseudo-terminal (util-linux `script`) around the built CLI: what a person at a terminal
 * sees and types. Ctrl-C typed here ("\x03") is the terminal's: SIGINT to the whole foreground
 * process group (optout, git, the rollout command), or a key to a prompt in raw mode.
 */
import { spawn } from "node:child_process";
import { cliPath, type World } from "./world.js";

export interface Session {
  output: () => string;
  waitFor: (text: RegExp) => Promise<void>;
  type: (keys: string) => void;
  done: Promise<number | null>;
}

export function terminal(
  w: World,
  person: string,
  args: string[],
  o: { env?: Record<string, string>; cwd?: string; columns?: number } = {},
): Session {
  // No CI variable: a person at a terminal.
  const env: Record<string, string> = { ...w.env(person), TERM: "dumb", NO_COLOR: "1", ...o.env };
  delete env.CI;
  const argv = [process.execPath, cliPath, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  // `script` gives the terminal no size (0 columns) unless told, as a window would.
  const command = o.columns ? `stty cols ${o.columns} rows 40; exec ${argv}` : argv;
  const child = spawn("script", ["-qfec", command, "/dev/null"], {
    cwd: o.cwd ?? w.work,
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  return {
    output: () => out,
    waitFor: async (text) => {
      // Polls what the terminal shows; the bound only turns a hang into a readable failure.
      for (let i = 0; i < 1200; i++) {
        if (text.test(out)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`timed out waiting for ${text}; screen so far:\n${out}`);
    },
    type: (keys) => child.stdin.write(keys),
    done: new Promise((r) => child.on("close", (c) => r(c))),
  };
}
