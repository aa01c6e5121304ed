/**
 * Interactive mode on a real pseudo-terminal (util-linux `script`): missing values are asked
 * for, the plan is shown, and nothing happens until it is confirmed.
 */
import { describe, expect, it } from "vitest";
import { terminal } from "../helpers/terminal.js";
import { makeWorld } from "../helpers/world.js";

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
      expect(JSON.parse((await w.run("bob", ["log", "--json"])).stdout).records).toEqual([]);
    } finally {
      await w.cleanup();
    }
  });

  it("Ctrl-C at a prompt ends the command as an interrupt (exit 130), nothing recorded", async () => {
    const w = await makeWorld();
    try {
      const atReason = terminal(w, "alice", ["skip", "lint"]);
      await atReason.waitFor(/Reason \(at least 15 characters\)/);
      atReason.type("\x03");
      expect(await atReason.done).toBe(130);
      expect(atReason.output()).toMatch(
        /optout: interrupted \(Ctrl-C\) at a prompt; nothing was recorded or changed/,
      );
      expect(atReason.output()).not.toMatch(/unexpected error/);

      const atConfirm = terminal(w, "alice", ["skip", "lint", "--reason", "linter crashes on node 22"]);
      await atConfirm.waitFor(/Go ahead\?/);
      atConfirm.type("\x03");
      expect(await atConfirm.done).toBe(130);
      expect(JSON.parse((await w.run("bob", ["log", "--json"])).stdout).records).toEqual([]);
    } finally {
      await w.cleanup();
    }
  });
});
