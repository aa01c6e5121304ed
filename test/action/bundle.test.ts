/**
 * GitHub runs the Action from the repository as committed (action/, no npm install): the
 * committed bundle must be what src/ builds now, or a release would ship yesterday's guard.
 */
import { describe, expect, it } from "vitest";
import { staleAction } from "../../scripts/build.mjs";

describe("action/", () => {
  it("is what src/ builds now (run `npm run build:action` and commit action/)", async () => {
    expect(await staleAction()).toEqual([]);
  });
});
