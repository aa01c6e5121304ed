/** Many writers, one remote: every record lands, the chain stays intact, nothing is forced. */
import { describe, expect, it } from "vitest";
import { makeWorld } from "../helpers/world.js";

describe("concurrent appends", () => {
  it("8 processes appending at once to one bare remote all land, chain intact", async () => {
    const w = await makeWorld();
    try {
      const clones = await Promise.all(Array.from({ length: 8 }, (_, i) => w.clone(`writer-${i}`)));
      const results = await Promise.all(
        clones.map((cwd, i) =>
          w.run(
            i % 2 ? "bob" : "alice",
            ["skip", "lint", "--reason", `concurrent writer number ${i}`, "--ref", `b${i}`, "--json"],
            {
              cwd,
            },
          ),
        ),
      );
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      const ids = results.map((r) => JSON.parse(r.stdout).id).sort();
      const log = JSON.parse((await w.run("alice", ["log", "--json"])).stdout);
      expect(log.map((r: { id: string }) => r.id).sort()).toEqual(ids);
      expect(log.map((r: { seq: number }) => r.seq)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
      const verify = await w.run("alice", ["log", "--verify"]);
      expect(verify.code).toBe(0);
      expect(verify.stdout).toContain("verified 8 record(s)");
      // Each waiver is honoured for its own ref.
      const status = JSON.parse((await w.run("alice", ["status", "--json"])).stdout);
      expect(status.active).toHaveLength(8);
    } finally {
      await w.cleanup();
    }
  });
});
