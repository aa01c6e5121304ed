/**
 * A hand-built ledger for the report tests: every record written out, with the figures it should
 * give worked out by hand in compute.test.ts. Times are hours after T0.
 */
import type { LedgerRecord } from "../../src/core/record.js";

export const T0 = Date.parse("2026-03-01T00:00:00.000Z");
export const HOUR = 3_600_000;
export const at = (h: number) => new Date(T0 + h * HOUR).toISOString();
/** 26 characters like a ULID; the X ends the name, so no id is a prefix of another. */
export const id = (name: string) => `01TEST${name}X`.padEnd(26, "0");

let seq = 0;
function rec(f: Partial<LedgerRecord> & Pick<LedgerRecord, "type" | "time">, extra = {}): LedgerRecord {
  seq += 1;
  return {
    v: 1,
    id: id(`S${seq}`),
    seq,
    prev: null,
    op: (["skip", "flag", "rollout", "failover"].includes(f.type) ? f.type : null) as LedgerRecord["op"],
    actor: { provider: "git", login: "alice", id: "alice" },
    signer: "alice",
    repo: "acme/shop",
    target: {},
    reason: null,
    ticket: null,
    mechanism: "guard",
    before: null,
    after: null,
    expiresAt: null,
    links: {},
    outcome: "applied",
    tool: "optout/test",
    ...f,
    ...extra,
  } as LedgerRecord;
}
const who = (login: string) => ({ actor: { provider: "git", login, id: login } });
const skip = (stage: string, ref: string) => ({ stage, ref, sha: null });
const review = (t: number, of: string, by: string, verdict: string) =>
  rec(
    { type: "review", time: at(t), ...who(by), target: { override: id(of) }, reason: "a review" },
    { verdict },
  );

export function ledger(): LedgerRecord[] {
  seq = 0;
  return [
    // Z: applied before the window (since = 1h): counted nowhere in the report.
    rec({
      id: id("Z"),
      type: "skip",
      time: at(0),
      target: skip("lint", "old"),
      expiresAt: at(4),
      reason: "old",
    }),
    // A: alice, reverted by herself after 1h (before its 6h expiry): reverted early, 1h.
    rec({
      id: id("A"),
      type: "skip",
      time: at(2),
      target: skip("lint", "main"),
      expiresAt: at(6),
      reason: "  Linter crashes on Node 22 ",
    }),
    rec({
      type: "revert",
      time: at(3),
      op: "skip",
      target: skip("lint", "main"),
      links: { reverts: id("A") },
    }),
    review(4, "A", "bob", "justified"),
    review(5, "A", "carol", "unjustified"),
    rec({ type: "deny", time: at(5.5), ...who("mallory"), target: skip("lint", "main"), outcome: "denied" }),
    // B: bob, expire record at 15h after its 14h expiry: expired, counted to expiresAt: 4h.
    rec({
      id: id("B"),
      type: "skip",
      time: at(10),
      ...who("bob"),
      target: skip("lint", "release"),
      expiresAt: at(14),
      reason: "linter crashes on node 22",
    }),
    rec({
      type: "expire",
      time: at(15),
      op: "skip",
      target: skip("lint", "release"),
      links: { reverts: id("B") },
    }),
    review(16, "B", "alice", "needs-follow-up"),
    // C: alice, never ended by a record; lapsed at 22h: expired, 2h. Its review has no valid verdict.
    rec({
      id: id("C"),
      type: "skip",
      time: at(20),
      target: skip("e2e", "main"),
      expiresAt: at(22),
      reason: "LINTER crashes on   node 22",
    }),
    review(21, "C", "bob", "meh"),
    // D: carol's flag, on a forge (intent, then result at 30.5h); E (an unset) ends it at 31.25h.
    rec({
      id: id("D"),
      type: "flag",
      time: at(30),
      ...who("carol"),
      target: { flag: "FREEZE", env: "production" },
      mechanism: "variable",
      after: { value: "true" },
      expiresAt: at(32),
      outcome: "intent",
      reason: "Release freeze bypass",
    }),
    rec({
      type: "result",
      time: at(30.5),
      ...who("carol"),
      links: { intent: id("D") },
      after: { value: "true" },
    }),
    rec({
      id: id("E"),
      type: "flag",
      time: at(31),
      ...who("carol"),
      target: { flag: "FREEZE", env: "production" },
      mechanism: "variable",
      after: { value: null },
      outcome: "intent",
      reason: "freeze bypass no longer needed",
    }),
    rec({
      type: "result",
      time: at(31.25),
      ...who("carol"),
      links: { intent: id("E") },
      after: { value: null },
    }),
    review(32, "E", "alice", "justified"),
    // F: bob's rollout (no TTL), applied at 40.25h, reverted by alice through a forge at 50.5h.
    rec({
      id: id("F"),
      type: "rollout",
      time: at(40),
      ...who("bob"),
      target: { env: "production", artifact: "reg/shop@sha256:aa" },
      mechanism: "command",
      before: { artifact: "reg/shop@sha256:00" },
      after: { artifact: "reg/shop@sha256:aa" },
      outcome: "intent",
      reason: "hotfix rollout",
    }),
    rec({ type: "result", time: at(40.25), ...who("bob"), links: { intent: id("F") } }),
    rec({
      id: id("RF"),
      type: "revert",
      time: at(50),
      op: "rollout",
      target: { env: "production", artifact: "reg/shop@sha256:aa" },
      links: { reverts: id("F") },
      outcome: "intent",
    }),
    rec({
      type: "result",
      time: at(50.5),
      op: "rollout",
      links: { intent: id("RF"), reverts: id("F") },
      after: { artifact: "reg/shop@sha256:00" },
    }),
    review(52, "F", "carol", "justified"),
    // G: erin asked, dave approved and applied; no TTL: still active at now (100h): 40h.
    rec({
      id: id("RG"),
      type: "request",
      time: at(59),
      ...who("erin"),
      target: { target: "eu-west-1", env: "production" },
      outcome: "pending",
    }),
    rec({ type: "approve", time: at(60), ...who("dave"), links: { request: id("RG") } }),
    rec({
      id: id("G"),
      type: "failover",
      time: at(60),
      ...who("dave"),
      target: { target: "eu-west-1", env: "production" },
      links: { request: id("RG") },
      requester: "erin",
      approvers: ["dave"],
      reason: "Region outage",
    }),
    review(61, "G", "alice", "justified"),
    // H: bob's skip whose forge call failed: not an override that took effect.
    rec({
      id: id("H"),
      type: "skip",
      time: at(70),
      ...who("bob"),
      target: skip("lint", "main"),
      mechanism: "status",
      expiresAt: at(74),
      outcome: "intent",
      reason: "should not count",
    }),
    rec({ type: "result", time: at(70), ...who("bob"), links: { intent: id("H") }, outcome: "failed" }),
    // I: carol, superseded by alice's J on the same scope after 1h; J lapses at 85h: expired, 4h.
    rec({
      id: id("I"),
      type: "skip",
      time: at(80),
      ...who("carol"),
      target: skip("lint", "main"),
      expiresAt: at(84),
      reason: "Linter crashes on node 22",
    }),
    rec({
      id: id("J"),
      type: "skip",
      time: at(81),
      target: skip("lint", "main"),
      expiresAt: at(85),
      reason: "flaky lint again",
    }),
    // K: after the window (until = 90h).
    rec({
      id: id("K"),
      type: "skip",
      time: at(95),
      ...who("bob"),
      target: skip("lint", "feature"),
      expiresAt: at(99),
      reason: "later",
    }),
    // After now (100h): ignored, so A's latest verdict stays carol's.
    review(101, "A", "dave", "justified"),
  ];
}
