/** Progress outside a terminal: one line per change of state, never one per poll. */
import { describe, expect, it } from "vitest";
import { Progress, stateOf } from "../../src/ui/progress.js";

describe("progress lines", () => {
  it("prints a forge wait once per state, whatever its elapsed time says", () => {
    const lines: string[] = [];
    const p = new Progress("lines", { write: (s: string) => lines.push(s) });
    for (const t of ["4s", "9s", "1m12s", "2m 3s"]) p.update(`waiting for run #123: in progress, ${t}`);
    p.update("pipeline #7 running (12 s)");
    p.update("pipeline #7 running (17 s)");
    p.update("waiting for run #123: completed (success), 2m30s");
    p.update("pushing the record (attempt 2: another writer was first)");
    p.update("pushing the record (attempt 3: another writer was first)");
    expect(lines).toEqual([
      "waiting for run #123: in progress, 4s\n",
      "pipeline #7 running (12 s)\n",
      "waiting for run #123: completed (success), 2m30s\n",
      "pushing the record (attempt 2: another writer was first)\n",
      "pushing the record (attempt 3: another writer was first)\n",
    ]);
  });

  it("says a state again after it ended, and nothing at all when off", () => {
    const lines: string[] = [];
    const p = new Progress("lines", { write: (s: string) => lines.push(s) });
    p.update("running the rollout command");
    p.end();
    p.update("running the rollout command");
    expect(lines).toHaveLength(2);
    const off: string[] = [];
    new Progress("off", { write: (s: string) => off.push(s) }).update("anything");
    expect(off).toEqual([]);
    expect(stateOf("GitHub: 502 on GET /x; retrying in 1.5 s")).toBe("GitHub: 502 on GET /x; retrying in");
  });
});
