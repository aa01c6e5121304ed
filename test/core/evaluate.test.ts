/**
 * The evaluator's semantics, record by record: what is in force after skips, flags, rollouts and
 * failovers are replaced, reverted and expired, and what a record that breaks the chain or the
 * policy means (nothing).
 */
import { describe, expect, it } from "vitest";
import { clockToleranceMs } from "../../src/core/chain.js";
import type { Policy } from "../../src/core/policy.js";
import { LedgerEvaluator } from "../../src/core/state.js";
import { normalizePolicy } from "../../src/policy/normalize.js";
import { ChainBuilder, keyTrust, type Person, person } from "./chain-builder.js";

const dana = person("dana");
const lee = person("lee");
const mallory = person("mallory");
const H = 3_600_000;

function policy(over: Record<string, unknown> = {}): Policy {
  return normalizePolicy(
    {
      version: 1,
      provider: "git",
      repo: "acme/shop",
      defaults: { ttl: "4h", maxTtl: "24h", reason: { minLength: 15 } },
      stages: {
        lint: { mechanism: "guard", allow: ["user:dana", "user:lee"] },
        e2e: { mechanism: "guard", allow: ["user:dana"], maxTtl: "2h" },
        deploy: {
          mechanism: "guard",
          allow: ["user:dana", "user:lee", "user:mallory"],
          approvals: { required: 1, from: ["user:dana", "user:lee", "user:mallory"] },
        },
      },
      flags: { X: { values: ["10", "25", "50", "90"], allow: ["user:dana", "user:lee"] } },
      failover: { targets: ["us-east-1", "eu-west-1"], allow: ["user:dana", "user:lee"], command: ["true"] },
      rollout: {
        environments: ["production"],
        artifact: { pattern: "^img@sha256:[0-9a-f]{4}$" },
        allow: ["user:dana", "user:lee"],
        command: ["true"],
      },
      ...over,
    },
    { file: "/x/.optoutrc.json", display: ".optoutrc.json", pathPrefix: [] },
  );
}

function world(p = policy(), people: Person[] = [dana, lee, mallory]) {
  const chain = new ChainBuilder();
  const trust = keyTrust(people.map((x) => ({ principal: x.principal, key: x.key })));
  const evaluate = () => {
    const ev = new LedgerEvaluator(p, chain.ctx(trust));
    for (const e of chain.entries) ev.add(e);
    return ev;
  };
  const skip = (as: Person, stage: string, ttl = 4 * H, extra = {}) => {
    const t = chain.tick();
    return chain.append(
      as,
      {
        type: "skip",
        op: "skip",
        target: { stage, ref: "main", sha: null },
        mechanism: "guard",
        after: { waived: true },
        expiresAt: new Date(t + ttl).toISOString(),
        ...extra,
      },
      { time: t },
    );
  };
  const flag = (as: Person, value: string, before: unknown, extra = {}) => {
    const t = chain.tick();
    return chain.append(
      as,
      {
        type: "flag",
        op: "flag",
        target: { flag: "X", env: null },
        mechanism: "variable",
        params: { value },
        before,
        after: { value },
        expiresAt: new Date(t + 4 * H).toISOString(),
        ...extra,
      },
      { time: t },
    );
  };
  const revert = (as: Person, id: string, op: string, extra = {}) =>
    chain.append(as, { type: "revert", op: op as never, links: { reverts: id }, ...extra });
  return { chain, evaluate, skip, flag, revert, trust };
}

describe("skips and flags: one active override per target, baseline restored at the end", () => {
  it("a second flag replaces the first; unset (a revert) restores the baseline, not the first value", () => {
    const w = world();
    const a = w.flag(dana, "25", { value: null });
    const b = w.flag(dana, "50", { value: "25" });
    let view = w.evaluate().view(new Date(w.chain.clock));
    expect(view.flag("X", null)?.value).toBe("50");
    expect(view.flag("X", null)?.override.replaces).toBe(a.id);
    expect(view.baseline(view.flag("X", null)!.override.key)).toEqual({ value: null });
    w.revert(dana, b.id, "flag");
    const ev = w.evaluate();
    view = ev.view(new Date(w.chain.clock));
    expect(view.flag("X", null)).toBeUndefined();
    expect(ev.alerts).toEqual([]);
    // The replaced one never comes back, and cannot be reverted.
    w.revert(dana, a.id, "flag");
    const after = w.evaluate();
    expect(after.view(new Date(w.chain.clock)).flag("X", null)).toBeUndefined();
    expect(after.alerts.at(-1)?.problem).toMatch(/no longer in force/);
  });

  it("a replaced skip's revert of the replacement restores nothing: the waiver ends", () => {
    const w = world();
    w.skip(dana, "lint");
    const b = w.skip(lee, "lint");
    w.revert(dana, b.id, "skip");
    const view = w.evaluate().view(new Date(w.chain.clock));
    expect(view.skipFor("lint", "main", undefined)).toBeUndefined();
  });

  it("a skip ends with its TTL, and a record from the future is not believed before its time", () => {
    const w = world();
    const s = w.skip(dana, "lint", 2 * H);
    const ev = w.evaluate();
    expect(ev.view(new Date(w.chain.clock + H)).skipFor("lint", "main", undefined)?.id).toBe(s.id);
    expect(ev.view(new Date(w.chain.clock + 3 * H)).skipFor("lint", "main", undefined)).toBeUndefined();
    expect(
      ev.view(new Date(w.chain.clock - clockToleranceMs - 60_000)).skipFor("lint", "main", undefined),
    ).toBeUndefined();
  });
});

describe("rollouts and failovers stack", () => {
  const failover = (w: ReturnType<typeof world>, to: string, from: string | null) =>
    w.chain.append(dana, {
      type: "failover",
      op: "failover",
      target: { target: to, env: null },
      mechanism: "command",
      before: { target: from },
      after: { target: to },
    });

  it("reverting the newest returns to the one it superseded; reverting a superseded one is refused", () => {
    const w = world();
    const a = failover(w, "eu-west-1", null);
    const b = failover(w, "us-east-1", "eu-west-1");
    w.revert(dana, a.id, "failover");
    let ev = w.evaluate();
    expect(ev.alerts.at(-1)?.problem).toMatch(/superseded/);
    w.chain.entries.pop();
    w.chain.head = undefined;
    // rebuild honestly
    const w2 = world();
    const a2 = failover(w2, "eu-west-1", null);
    const b2 = failover(w2, "us-east-1", "eu-west-1");
    w2.revert(dana, b2.id, "failover");
    ev = w2.evaluate();
    const key = [...ev.targets.keys()][0]!;
    expect(ev.view(new Date(w2.chain.clock)).target(key).active?.id).toBe(a2.id);
    expect(ev.alerts).toEqual([]);
    expect(b.id).not.toBe(a.id);
  });
});

describe("a record means only what its signature and the policy allow", () => {
  it("a claimed actor that is not the signer makes the record junk", () => {
    const w = world();
    w.chain.append(
      dana,
      {
        type: "skip",
        op: "skip",
        target: { stage: "e2e", ref: "main", sha: null },
        mechanism: "guard",
        expiresAt: new Date(w.chain.clock + 2 * H).toISOString(),
      },
      { signedBy: mallory },
    );
    const ev = w.evaluate();
    expect(ev.alerts[0]?.kind).toBe("junk");
    expect(ev.alerts[0]?.problem).toMatch(/claims actor "dana" but is signed by "mallory"/);
    expect(ev.view(new Date(w.chain.clock)).skipFor("e2e", "main", undefined)).toBeUndefined();
  });

  it("someone the stage does not allow, a TTL beyond maxTtl, a missing approval: no effect", () => {
    const w = world();
    w.skip(mallory, "e2e", H);
    w.skip(dana, "e2e", 3 * H);
    w.skip(dana, "deploy", H);
    const ev = w.evaluate();
    expect(ev.alerts.map((a) => a.kind)).toEqual(["unauthorized", "unauthorized", "unauthorized"]);
    expect(ev.alerts.map((a) => a.problem)).toEqual([
      expect.stringMatching(/mallory may not skip stage e2e/),
      expect.stringMatching(/longer than the 2h/),
      expect.stringMatching(/needs 1 approval/),
    ]);
    const view = ev.view(new Date(w.chain.clock));
    expect(view.skipFor("e2e", "main", undefined)).toBeUndefined();
    expect(view.skipFor("deploy", "main", undefined)).toBeUndefined();
  });

  it("approvals count only from signed approve records of other people", () => {
    const w = world();
    const t = w.chain.tick();
    const req = w.chain.append(mallory, {
      type: "request",
      op: "skip",
      target: { stage: "deploy", ref: "main", sha: null },
      mechanism: "guard",
      outcome: "pending",
      ttlMs: H,
      expiresAt: new Date(t + 24 * H).toISOString(),
    });
    // Self-approval, then a forged claim of lee's approval on the applied record.
    w.chain.append(mallory, { type: "approve", op: "skip", target: req.target, links: { request: req.id } });
    const applyAt = w.chain.tick();
    w.chain.append(
      mallory,
      {
        type: "skip",
        op: "skip",
        target: req.target,
        mechanism: "guard",
        links: { request: req.id },
        requester: "mallory",
        approvers: ["lee"],
        expiresAt: new Date(applyAt + H).toISOString(),
      },
      { time: applyAt },
    );
    const ev = w.evaluate();
    expect(ev.alerts.map((a) => a.problem)).toEqual([
      expect.stringMatching(/approved their own request/),
      expect.stringMatching(/0 of the 1 approvals/),
    ]);
    expect(ev.view(new Date(w.chain.clock)).skipFor("deploy", "main", undefined)).toBeUndefined();
    // An honest approval by lee, then the application: in force, lee recorded as the approver.
    w.chain.append(lee, { type: "approve", op: "skip", target: req.target, links: { request: req.id } });
    const at = w.chain.tick();
    w.chain.append(
      lee,
      {
        type: "skip",
        op: "skip",
        target: req.target,
        mechanism: "guard",
        links: { request: req.id },
        requester: "mallory",
        approvers: ["lee"],
        expiresAt: new Date(at + H).toISOString(),
      },
      { time: at },
    );
    const ok = w.evaluate().view(new Date(w.chain.clock)).skipFor("deploy", "main", undefined);
    expect(ok?.person).toBe("mallory");
    expect(ok?.approvers).toEqual(["lee"]);
  });

  it("one key under two principals cannot approve its owner's request", () => {
    const alias = { principal: "mallory2", login: "mallory2", key: mallory.key };
    const w = world(policy(), [dana, lee, mallory]);
    const trust = keyTrust([
      { principal: "mallory", key: mallory.key },
      { principal: "mallory2", key: mallory.key },
      { principal: "lee", key: lee.key },
    ]);
    const t = w.chain.tick();
    const req = w.chain.append(mallory, {
      type: "request",
      op: "skip",
      target: { stage: "deploy", ref: "main", sha: null },
      mechanism: "guard",
      outcome: "pending",
      ttlMs: H,
      expiresAt: new Date(t + 24 * H).toISOString(),
    });
    w.chain.append(alias, { type: "approve", op: "skip", target: req.target, links: { request: req.id } });
    const ev = new LedgerEvaluator(
      policy({
        stages: {
          deploy: {
            mechanism: "guard",
            allow: ["user:mallory"],
            approvals: { required: 1, from: ["user:mallory2", "user:lee"] },
          },
        },
      }),
      w.chain.ctx(trust),
    );
    for (const e of w.chain.entries) ev.add(e);
    expect(ev.alerts.at(-1)?.problem).toMatch(/signs with a key of mallory/);
  });

  it("junk (a keyless commit) is chained past; honest records after it still count", () => {
    const w = world();
    w.skip(dana, "lint");
    w.chain.append(mallory, { type: "skip", seq: 1, prev: null } as never, { unsigned: true, prevOf: null });
    const s = w.skip(dana, "e2e", H);
    const ev = w.evaluate();
    expect(ev.alerts.map((a) => a.kind)).toEqual(["junk"]);
    expect(ev.view(new Date(w.chain.clock)).skipFor("e2e", "main", undefined)?.id).toBe(s.id);
  });

  it("a record that claims a time before the one it follows is junk; a retired key cannot backdate", () => {
    const w = world();
    w.skip(dana, "lint");
    const early = w.chain.clock - 2 * H;
    w.chain.append(
      dana,
      {
        type: "skip",
        op: "skip",
        target: { stage: "e2e", ref: "main", sha: null },
        mechanism: "guard",
        expiresAt: new Date(early + H).toISOString(),
      },
      { time: early },
    );
    const ev = w.evaluate();
    expect(ev.alerts[0]?.problem).toMatch(/is before/);
  });
});

describe("a user principal names a login the way its provider does", () => {
  it("a forge's login matches whatever its case; plain git's signer principal as written", () => {
    for (const [provider, counts] of [
      ["github", true],
      ["gitlab", true],
      ["git", false],
    ] as const) {
      const p = normalizePolicy(
        {
          version: 1,
          provider,
          repo: "acme/shop",
          defaults: { ttl: "4h", maxTtl: "24h", reason: { minLength: 15 } },
          stages: { lint: { mechanism: "guard", allow: ["user:Dana"] } },
        },
        { file: "/x/.optoutrc.json", display: ".optoutrc.json", pathPrefix: [] },
      );
      const chain = new ChainBuilder("acme/shop", provider);
      const t = chain.tick();
      const s = chain.append(
        dana,
        {
          type: "skip",
          op: "skip",
          target: { stage: "lint", ref: "main", sha: null },
          mechanism: "guard",
          after: { waived: true },
          expiresAt: new Date(t + H).toISOString(),
        },
        { time: t },
      );
      const ev = new LedgerEvaluator(p, chain.ctx(keyTrust([{ principal: dana.principal, key: dana.key }])));
      for (const e of chain.entries) ev.add(e);
      // What the writer allowed (each provider's hasPrincipal, the same rule) is what readers count.
      expect([provider, ev.view(new Date(chain.clock)).skipFor("lint", "main", undefined)?.id]).toEqual([
        provider,
        counts ? s.id : undefined,
      ]);
    }
  });
});
