/** The Interrupt's rules, on the class itself: where Ctrl-C aborts, waits, or ends the process. */
import { describe, expect, it } from "vitest";
import { Interrupt } from "../../src/core/interrupt.js";

function make() {
  let exits = 0;
  const i = new Interrupt(() => exits++);
  return { i, exits: () => exits };
}

describe("Interrupt", () => {
  it("outside a critical section Ctrl-C ends the process; inside one it aborts the step", async () => {
    const a = make();
    a.i.fire();
    expect([a.exits(), a.i.interrupted]).toEqual([1, false]);

    const b = make();
    await b.i.critical(async () => {
      b.i.fire();
      expect([b.exits(), b.i.interrupted]).toEqual([0, true]);
      b.i.fire();
      expect(b.exits()).toBe(1);
    });
  });

  it("while the flow records what happened, Ctrl-C is noted and takes effect once it is recorded", async () => {
    const c = make();
    await c.i.critical(async () => {
      const seen = await c.i.recording(async () => {
        c.i.fire();
        return c.i.interrupted;
      });
      // The record was not cut short; the interrupt counts from then on.
      expect(seen).toBe(false);
      expect([c.exits(), c.i.interrupted]).toEqual([0, true]);
    });

    const d = make();
    await d.i.recording(async () => {
      d.i.fire();
      d.i.fire();
    });
    // A second Ctrl-C leaves at once, as everywhere.
    expect(d.exits()).toBe(1);
  });
});
