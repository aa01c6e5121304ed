import { describe, expect, it } from "vitest";
import type { Policy } from "../../src/core/policy.js";
import type { LedgerRecord } from "../../src/core/record.js";
import { LedgerEvaluator } from "../../src/core/state.js";
import { canonicalize } from "../../src/ledger/canonical.js";
import { evaluateInOrder, type WindowFile } from "../../src/ledger/window.js";
import { normalizePolicy } from "../../src/policy/normalize.js";
import { ChainBuilder, keyTrust, type Person, person } from "./chain-builder.js";

const dana = person("dana");
const lee = person("lee");
const mallory = person("mallory");
const H = 3_600_000;

const policy: Policy = normalizePolicy(
  {
    version: 1,
    provider: "git",
    repo: "acme/shop",
    defaults: { ttl: "4h", maxTtl: "24h", reason: { minLength: 15 } },
    stages: {
      lint: { mechanism: "guard", allow: ["user:dana", "user:lee"] },
      e2e: { mechanism: "guard", allow: ["user:dana"] },
    },
  },
  { file: "/x/.optoutrc.json", display: ".optoutrc.json", pathPrefix: [] },
);

function setup() {
  const chain = new ChainBuilder();
  const trust = keyTrust([dana, lee, mallory].map((p) => ({ principal: p.principal, key: p.key })));
  const ctx = chain.ctx(trust);
  const skip = (as: Person, stage: string, o: { time?: number; ttl?: number; signedBy?: Person } = {}) => {
    const t = o.time ?? chain.tick();
    return chain.append(
      as,
      {
        type: "skip",
        op: "skip",
        target: { stage, ref: "main", sha: null },
        mechanism: "guard",
        expiresAt: new Date(t + (o.ttl ?? 4 * H)).toISOString(),
      },
      { time: t, ...(o.signedBy ? { signedBy: o.signedBy } : {}) },
    );
  };
  const full = (now: number, stage: string) => {
    const ev = new LedgerEvaluator(policy, ctx);
    for (const e of chain.entries) ev.add(e);
    return ev.view(new Date(now)).skipFor(stage, "main", undefined)?.id;
  };
  /** The window from `from` (ms): every record whose id was minted since, in the order of its commits. */
  const windowed = (now: number, stage: string, from: number) => {
    const files: WindowFile[] = chain.entries
      .filter((e) => e.record && Date.parse(e.record.time) >= from)
      .map((e) => ({
        path: e.path!,
        bytes: Buffer.from(canonicalize(e.record as LedgerRecord), "utf8"),
        ...(e.signature ? { signature: e.signature } : {}),
      }));
    const v = evaluateInOrder(
      files,
      files.map((f) => f.path),
      policy,
      ctx,
    );
    return v.ev.view(new Date(now)).skipFor(stage, "main", undefined)?.id;
  };
  return { chain, skip, full, windowed };
}

describe("guard's window agrees with the whole branch", () => {
  it("an honest ledger: the same skip, from any window that holds it", () => {
    const s = setup();
    for (let i = 0; i < 5; i++) s.skip(dana, "e2e", { ttl: H });
    const start = s.chain.clock;
    const lint = s.skip(lee, "lint");
    s.chain.tick();
    const revertLater = s.skip(dana, "e2e");
    s.chain.append(dana, { type: "revert", op: "skip", links: { reverts: revertLater.id } });
    const now = s.chain.clock + 60_000;
    expect(s.full(now, "lint")).toBe(lint.id);
    expect(s.windowed(now, "lint", start - 1)).toBe(lint.id);
    expect(s.full(now, "e2e")).toBeUndefined();
    expect(s.windowed(now, "e2e", start - 1)).toBeUndefined();
  });

  it("junk in the window (a keyless commit, an actor who is not the signer) is passed over", () => {
    const s = setup();
    const start = s.chain.clock;
    s.skip(dana, "lint");
    s.chain.append(mallory, { type: "skip", seq: 99 } as never, { unsigned: true, prevOf: null });
    s.skip(dana, "e2e", { signedBy: mallory });
    const ok = s.skip(dana, "e2e");
    const now = s.chain.clock + 60_000;
    expect(s.full(now, "e2e")).toBe(ok.id);
    expect(s.windowed(now, "e2e", start)).toBe(ok.id);
  });

  it("a record chained past an honest revert: junk for the whole branch and for the window alike", () => {
    const s = setup();
    const start = s.chain.clock;
    const skip = s.skip(dana, "lint");
    const before = s.chain.head!;
    s.chain.append(dana, { type: "revert", op: "skip", links: { reverts: skip.id } });
    // mallory chains onto the record before the revert, skipping it.
    s.chain.append(
      mallory,
      { type: "deny", op: "skip", target: { stage: "lint" }, outcome: "denied" },
      { prevOf: before },
    );
    const now = s.chain.clock + 60_000;
    expect(s.full(now, "lint")).toBeUndefined();
    expect(s.windowed(now, "lint", start)).toBeUndefined();
  });
});
