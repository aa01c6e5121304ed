/**
 * `optout init` at a terminal (a real pseudo-terminal through util-linux `script`): the questions,
 * the answers landing in the policy, and the question before replacing a file that differs.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliPath } from "../helpers/world.js";
import { type Fresh, freshRepo } from "./fresh.js";

let r: Fresh;
beforeAll(async () => {
  r = await freshRepo();
});
afterAll(() => r.cleanup());

function terminal(args: string[]) {
  const env: Record<string, string> = { ...r.env, TERM: "dumb" };
  const command = [process.execPath, cliPath, ...args].map((a) => `'${a}'`).join(" ");
  const child = spawn("script", ["-qfec", command, "/dev/null"], { cwd: r.work, env, stdio: "pipe" });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  let seen = 0;
  return {
    output: () => out,
    /** Waits for `text` after what was already answered, then types `keys`. */
    answer: async (text: RegExp, keys: string) => {
      for (let i = 0; i < 300; i++) {
        const m = text.exec(out.slice(seen));
        if (m) {
          seen += m.index + m[0].length;
          child.stdin.write(keys);
          return;
        }
        await new Promise((res) => setTimeout(res, 50));
      }
      throw new Error(`timed out waiting for ${text}; screen so far:\n${out}`);
    },
    done: new Promise<number | null>((res) => child.on("close", (c) => res(c))),
  };
}

describe("optout init at a terminal", () => {
  it("asks, and writes what was answered", async () => {
    const t = terminal(["init", "--provider", "git"]);
    await t.answer(/Stages to make overridable/, "lint,e2e\r");
    await t.answer(/Principal \(your name/, "\r");
    await t.answer(/Trust your key \(~\/\.ssh\/id_ed25519\) as dana@example\.com\?/, "y\r");
    await t.answer(/Who may override/, "\r");
    await t.answer(/Default TTL/, "2h\r");
    await t.answer(/Longest TTL/, "\r");
    await t.answer(/Announce every override to/, "\r");
    expect(await t.done, t.output()).toBe(0);
    const policy = JSON.parse(await readFile(join(r.work, ".optoutrc.json"), "utf8"));
    expect(Object.keys(policy.stages)).toEqual(["lint", "e2e"]);
    expect(policy.defaults).toMatchObject({ ttl: "2h", maxTtl: "24h" });
    expect(policy.groups.oncall).toEqual(["user:dana@example.com"]);
  });

  it("asks before replacing a file that differs, and keeps it on no", async () => {
    const before = await readFile(join(r.work, ".optoutrc.json"), "utf8");
    const t = terminal(["init", "--provider", "git"]);
    await t.answer(/Stages to make overridable/, "\r");
    await t.answer(/Principal \(your name/, "\r");
    await t.answer(/Trust your key/, "y\r");
    await t.answer(/Who may override/, "\r");
    await t.answer(/Default TTL/, "\r");
    await t.answer(/Longest TTL/, "\r");
    await t.answer(/Announce every override to/, "\r");
    await t.answer(/Replace it\?/, "n\r");
    expect(await t.done, t.output()).toBe(0);
    expect(t.output()).toMatch(/kept\s+\.optoutrc\.json/);
    expect(t.output()).toMatch(/unchanged\s+\.optout\/allowed_signers/);
    expect(await readFile(join(r.work, ".optoutrc.json"), "utf8")).toBe(before);
  });
});
