/**
 * computeReport over the hand-built ledger of ledger.ts. Every figure is worked out by hand below
 * from the record times (hours after T0), not by running the code under test.
 *
 * Window [1h, 90h], now = 100h. In it (applied at): A 2h, B 10h, C 20h, D 30.5h (its result),
 * E 31.25h, F 40.25h, G 60h, I 80h, J 81h → 9 overrides. Out: Z (0h), H (failed), K (95h).
 *
 * | id | type     | stage | env        | actor | applied→end            | active  | ending        | latest verdict  |
 * | A  | skip     | lint  | -          | alice | 2h → revert 3h         | 1h      | revertedEarly | unjustified     |
 * | B  | skip     | lint  | -          | bob   | 10h → expiresAt 14h    | 4h      | expired       | needs-follow-up |
 * | C  | skip     | e2e   | -          | alice | 20h → expiresAt 22h    | 2h      | expired       | - ("meh")       |
 * | D  | flag     | -     | production | carol | 30.5h → E at 31.25h    | 45m     | superseded    | -               |
 * | E  | flag     | -     | production | carol | (unset: never in force)| -       | -             | justified       |
 * | F  | rollout  | -     | production | bob   | 40.25h → revert 50.5h  | 10h15m  | revertedEarly | justified       |
 * | G  | failover | -     | production | erin  | 60h → now 100h         | 40h     | stillActive   | justified       |
 * | I  | skip     | lint  | -          | carol | 80h → J at 81h         | 1h      | superseded    | -               |
 * | J  | skip     | lint  | -          | alice | 81h → expiresAt 85h    | 4h      | expired       | -               |
 */
import { describe, expect, it } from "vitest";
import { computeReport, type ReportDimension } from "../../src/core/report.js";
import { at, HOUR, id, ledger } from "./ledger.js";

const M = 60_000;
const options = (by: ReportDimension) => ({
  since: new Date(at(1)),
  until: new Date(at(90)),
  now: new Date(at(100)),
  by,
});
const verdicts = (justified: number, unjustified: number, followUp: number) => ({
  justified,
  unjustified,
  "needs-follow-up": followUp,
});

describe("computeReport", () => {
  it("gives every figure of the JSON as worked out by hand", () => {
    const report = computeReport(ledger(), options("type"));
    // Everything but the definitions text, which is prose.
    const { definitions, ...figures } = report;
    expect(Object.keys(definitions).length).toBeGreaterThan(5);
    expect(figures).toEqual({
      window: { since: at(1), until: at(90), now: at(100) },
      by: "type",
      total: {
        overrides: 9,
        activeTime: {
          // E has none. Sorted: 45m, 1h, 1h, 2h, 4h, 4h, 10h15m, 40h → median (2h + 4h) / 2 = 3h.
          measured: 8,
          medianMsAppliedToEnd: 3 * HOUR,
          longestMsAppliedToEnd: 40 * HOUR,
          longestId: id("G"),
        },
        endings: {
          revertedEarly: 2, // A, F
          expired: 3, // B, C, J
          superseded: 2, // D, I
          stillActive: 1, // G
          ended: 7,
          revertedEarlyShareOfEnded: 2 / 7,
          expiredShareOfEnded: 3 / 7,
        },
        // A, B, E, F, G; A's latest is carol's (dave's comes after now).
        reviews: { reviewed: 5, reviewedShare: 5 / 9, latestVerdicts: verdicts(3, 1, 1) },
      },
      groups: [
        {
          key: "skip", // A B C I J: 1h 4h 2h 1h 4h → sorted 1h 1h 2h 4h 4h; B is the first 4h
          overrides: 5,
          activeTime: {
            measured: 5,
            medianMsAppliedToEnd: 2 * HOUR,
            longestMsAppliedToEnd: 4 * HOUR,
            longestId: id("B"),
          },
          endings: {
            revertedEarly: 1,
            expired: 3,
            superseded: 1,
            stillActive: 0,
            ended: 5,
            revertedEarlyShareOfEnded: 1 / 5,
            expiredShareOfEnded: 3 / 5,
          },
          reviews: { reviewed: 2, reviewedShare: 2 / 5, latestVerdicts: verdicts(0, 1, 1) },
        },
        {
          key: "flag", // D 45m; E never in force
          overrides: 2,
          activeTime: {
            measured: 1,
            medianMsAppliedToEnd: 45 * M,
            longestMsAppliedToEnd: 45 * M,
            longestId: id("D"),
          },
          endings: {
            revertedEarly: 0,
            expired: 0,
            superseded: 1,
            stillActive: 0,
            ended: 1,
            revertedEarlyShareOfEnded: 0,
            expiredShareOfEnded: 0,
          },
          reviews: { reviewed: 1, reviewedShare: 1 / 2, latestVerdicts: verdicts(1, 0, 0) },
        },
        {
          key: "failover", // ties at 1 are ordered by key
          overrides: 1,
          activeTime: {
            measured: 1,
            medianMsAppliedToEnd: 40 * HOUR,
            longestMsAppliedToEnd: 40 * HOUR,
            longestId: id("G"),
          },
          endings: {
            revertedEarly: 0,
            expired: 0,
            superseded: 0,
            stillActive: 1,
            ended: 0,
            revertedEarlyShareOfEnded: null,
            expiredShareOfEnded: null,
          },
          reviews: { reviewed: 1, reviewedShare: 1, latestVerdicts: verdicts(1, 0, 0) },
        },
        {
          key: "rollout",
          overrides: 1,
          activeTime: {
            measured: 1,
            medianMsAppliedToEnd: 10 * HOUR + 15 * M,
            longestMsAppliedToEnd: 10 * HOUR + 15 * M,
            longestId: id("F"),
          },
          endings: {
            revertedEarly: 1,
            expired: 0,
            superseded: 0,
            stillActive: 0,
            ended: 1,
            revertedEarlyShareOfEnded: 1,
            expiredShareOfEnded: 0,
          },
          reviews: { reviewed: 1, reviewedShare: 1, latestVerdicts: verdicts(1, 0, 0) },
        },
      ],
      // A B C I normalise to one reason; the rest are 1 each, ties in alphabetical order, top 5.
      topReasons: [
        { reason: "linter crashes on node 22", overrides: 4 },
        { reason: "flaky lint again", overrides: 1 },
        { reason: "freeze bypass no longer needed", overrides: 1 },
        { reason: "hotfix rollout", overrides: 1 },
        { reason: "region outage", overrides: 1 },
      ],
      mostWaivedStages: [
        { stage: "lint", skips: 4 }, // A B I J
        { stage: "e2e", skips: 1 }, // C
      ],
    });
  });

  it("groups by actor (the requester when approved), env and stage", () => {
    const rows = (by: ReportDimension) =>
      computeReport(ledger(), options(by)).groups.map((g) => [g.key, g.overrides]);
    // G was applied by dave on erin's request: it is erin's.
    expect(rows("actor")).toEqual([
      ["alice", 3], // A C J
      ["carol", 3], // D E I
      ["bob", 2], // B F
      ["erin", 1], // G
    ]);
    expect(rows("env")).toEqual([
      ["-", 5], // the skips
      ["production", 4], // D E F G
    ]);
    expect(rows("stage")).toEqual([
      ["-", 4], // D E F G ("-" sorts before letters)
      ["lint", 4], // A B I J
      ["e2e", 1], // C
    ]);
    const actor = computeReport(ledger(), options("actor")).groups.find((g) => g.key === "erin")!;
    expect(actor.activeTime.longestId).toBe(id("G"));
  });

  it("is empty, not wrong, for a window with no overrides", () => {
    const r = computeReport(ledger(), {
      ...options("type"),
      since: new Date(at(200)),
      until: new Date(at(300)),
    });
    expect(r.total).toEqual({
      overrides: 0,
      activeTime: { measured: 0, medianMsAppliedToEnd: null, longestMsAppliedToEnd: null, longestId: null },
      endings: {
        revertedEarly: 0,
        expired: 0,
        superseded: 0,
        stillActive: 0,
        ended: 0,
        revertedEarlyShareOfEnded: null,
        expiredShareOfEnded: null,
      },
      reviews: { reviewed: 0, reviewedShare: null, latestVerdicts: verdicts(0, 0, 0) },
    });
    expect([r.groups, r.topReasons, r.mostWaivedStages]).toEqual([[], [], []]);
  });

  it("takes the state as of now: a still-active override is counted to now, later records ignored", () => {
    // At 84.5h, J (81h, expires 85h) is still active: 3.5h. I was superseded at 81h all the same.
    const r = computeReport(ledger(), { ...options("type"), now: new Date(at(84.5)) });
    const skip = r.groups.find((g) => g.key === "skip")!;
    expect(skip.endings).toMatchObject({ stillActive: 1, expired: 2, superseded: 1, revertedEarly: 1 });
    // G: 60h → 84.5h.
    expect(r.total.activeTime.longestMsAppliedToEnd).toBe(24.5 * HOUR);
  });
});
