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
            [
              "skip",
              "lint",
              "--reason",
              `concurrent writer number ${i}`,
              "--ref",
              `b${i}`,
              "--allow-missing-ref",
              "--json",
            ],
            {
              cwd,
            },
          ),
        ),
      );
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      const ids = results.map((r) => JSON.parse(r.stdout).id).sort();
      const log = JSON.parse((await w.run("alice", ["log", "--json"])).stdout).records;
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

  it("load: 20 writers at once → 20 records, chain intact; reports total time and the worst writer's retries", async () => {
    const w = await makeWorld();
    try {
      const clones = await Promise.all(Array.from({ length: 20 }, (_, i) => w.clone(`load-${i}`)));
      const started = Date.now();
      const results = await Promise.all(
        clones.map((cwd, i) =>
          w.run(
            i % 2 ? "bob" : "alice",
            [
              "skip",
              "lint",
              "--reason",
              `load writer number ${i}`,
              "--ref",
              `l${i}`,
              "--allow-missing-ref",
              "--json",
            ],
            {
              cwd,
            },
          ),
        ),
      );
      const totalMs = Date.now() - started;
      for (const r of results) expect(r.code, r.stderr).toBe(0);
      const attempts = results.map((r) => JSON.parse(r.stdout).attempts as number);
      expect(attempts.every((a) => Number.isInteger(a) && a >= 1)).toBe(true);
      const log = JSON.parse((await w.run("alice", ["log", "--json"])).stdout).records;
      expect(log.map((r: { seq: number }) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 20 - i));
      expect((await w.run("alice", ["log", "--verify"])).code).toBe(0);
      // The figures docs/performance.md quotes.
      console.log(
        `load: 20 writers in ${totalMs} ms; attempts per writer: max ${Math.max(...attempts)}, median ${attempts.sort((a, b) => a - b)[10]}`,
      );
    } finally {
      await w.cleanup();
    }
  });
});
