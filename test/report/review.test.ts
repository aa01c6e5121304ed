/** The review questions asked of a history: unreviewed, overdue, which override an id names, who is involved. */
import { describe, expect, it } from "vitest";
import type { LedgerRecord } from "../../src/core/record.js";
import {
  advanceReviews,
  appliedOverrides,
  awaitingReview,
  emptyReviewTally,
  findOverride,
  involvedIn,
  latestVerdict,
  overdueReviews,
  reviewsByOverride,
  unreviewed,
} from "../../src/core/review.js";
import { at, HOUR, id, ledger } from "./ledger.js";

describe("reviews over a history", () => {
  it("applied overrides leave out failed intents and date forge changes by their result", () => {
    const applied = appliedOverrides(ledger()).map((o) => [o.record.id, o.appliedAt]);
    expect(applied).toEqual([
      [id("Z"), at(0)],
      [id("A"), at(2)],
      [id("B"), at(10)],
      [id("C"), at(20)],
      [id("D"), at(30.5)],
      [id("E"), at(31.25)],
      [id("F"), at(40.25)],
      [id("G"), at(60)],
      [id("I"), at(80)],
      [id("J"), at(81)],
      [id("K"), at(95)],
    ]);
  });

  it("lists unreviewed overrides oldest first; a review with no valid verdict does not count", () => {
    // Reviewed: A B E F G. C's only review says "meh".
    expect(unreviewed(ledger()).map((o) => o.record.id)).toEqual([
      id("Z"),
      id("C"),
      id("D"),
      id("I"),
      id("J"),
      id("K"),
    ]);
  });

  it("overdue = unreviewed and applied at least `within` before now", () => {
    // now 100h, within 24h: due by 100h means applied at or before 76h.
    const overdue = overdueReviews(ledger(), new Date(at(100)), 24 * HOUR);
    expect(overdue.map((o) => [o.record.id, o.dueAt])).toEqual([
      [id("Z"), at(24)],
      [id("C"), at(44)],
      [id("D"), at(54.5)],
    ]);
    expect(overdueReviews(ledger(), new Date(at(100)), 200 * HOUR)).toEqual([]);
  });

  it("the latest review's verdict wins", () => {
    const reviews = reviewsByOverride(ledger());
    expect(reviews.get(id("A"))!.map((r) => r.actor.login)).toEqual(["bob", "carol", "dave"]);
    expect(latestVerdict(reviews.get(id("A")))).toBe("justified"); // dave's, at 101h
    expect(latestVerdict(reviews.get(id("C")))).toBeNull();
  });

  it("finds an override by id or by a unique prefix of 6+ characters", () => {
    const records = ledger();
    expect(findOverride(records, id("A")).id).toBe(id("A"));
    expect(findOverride(records, id("A").toLowerCase()).id).toBe(id("A"));
    expect(findOverride(records, "01testax").id).toBe(id("A"));
    // Every override record counts, the failed H too: it can be reviewed.
    expect(() => findOverride(records, "01TEST")).toThrow(/matches 12 overrides/);
    expect(() => findOverride(records, "01TESTAX0000000000000000001")).toThrow(/no override/);
    expect(() => findOverride(records, "01TE")).toThrow(/no override with id 01TE/);
    expect(() => findOverride(records, id("RG"))).toThrow(/is a request record, not an override/);
  });

  it("the maker, the requester and the approvers are involved; others are not", () => {
    const g = findOverride(ledger(), id("G"));
    const actor = (login: string, actorId = login) => ({ provider: "git", login, id: actorId });
    expect(involvedIn(actor("dave"), g)).toBe(true);
    expect(involvedIn(actor("Erin"), g)).toBe(true);
    expect(involvedIn(actor("renamed", "dave"), g)).toBe(true);
    expect(involvedIn(actor("alice"), g)).toBe(false);
    expect(involvedIn({ provider: "github", login: "alice", id: "dave" }, g)).toBe(false);
  });

  describe("the tally status keeps, record by record", () => {
    // The definition, straight from the whole history: applied, not reviewed, oldest first.
    const whole = (records: LedgerRecord[]) => {
      const reviews = reviewsByOverride(records);
      return appliedOverrides(records)
        .filter((o) => !reviews.has(o.record.id))
        .sort((a, b) => Date.parse(a.appliedAt) - Date.parse(b.appliedAt) || a.record.seq - b.record.seq)
        .map((o) => ({ id: o.record.id, appliedAt: o.appliedAt }));
    };
    // A cache between runs: the tally goes through JSON, as it does on disk.
    const step = (records: LedgerRecord[], tally = emptyReviewTally()) =>
      JSON.parse(JSON.stringify(advanceReviews(tally, records)));

    it("gives what the whole history gives, wherever the history is split", () => {
      const records = ledger();
      expect(awaitingReview(step(records))).toEqual(whole(records));
      expect(unreviewed(records).map((o) => ({ id: o.record.id, appliedAt: o.appliedAt }))).toEqual(
        whole(records),
      );
      for (let k = 0; k <= records.length; k++) {
        const tally = step(records.slice(k), step(records.slice(0, k)));
        expect(awaitingReview(tally), `split at ${k}`).toEqual(whole(records));
      }
      const oneByOne = records.reduce((t, r) => step([r], t), emptyReviewTally());
      expect(awaitingReview(oneByOne)).toEqual(whole(records));
    });

    it("a result that only reports deliveries does not move when an applied override took effect", () => {
      const records = ledger();
      const z = records.find((r) => r.id === id("Z"))!;
      const next = records.at(-1)!.seq + 1;
      const delivery = {
        ...z,
        id: id("DLV"),
        seq: next,
        type: "result",
        time: at(120),
        links: { intent: id("Z") },
      } as LedgerRecord;
      const lateResult = {
        ...delivery,
        id: id("DLW"),
        seq: next + 1,
        time: at(121),
        links: { intent: id("D") },
      } as LedgerRecord;
      const all = [...records, delivery, lateResult];
      expect(whole(all).find((o) => o.id === id("Z"))!.appliedAt).toBe(at(0));
      expect(whole(all).find((o) => o.id === id("D"))!.appliedAt).toBe(at(121));
      for (let k = 0; k <= all.length; k++) {
        expect(awaitingReview(step(all.slice(k), step(all.slice(0, k)))), `split at ${k}`).toEqual(
          whole(all),
        );
      }
    });
  });
});
