/**
 * What the forge-state property tests (forge-state*.property.test.ts) share: the targets, the
 * steps a sequence is made of, the evaluator as the remote's audit branch holds it, and the check
 * that the forge fake holds what that evaluator says is in force — the override's value while one
 * is active (or due: its TTL passed, and the forge holds it until `optout expire`), else the
 * baseline from before optout (a status or a value, or nothing).
 */
import fc from "fast-check";
import { expect } from "vitest";
import { LedgerView, type TargetState } from "../../src/core/state.js";
import type { Factory } from "../../src/factory.js";
import { evaluateLedger } from "../../src/ledger/evaluate.js";
import { git } from "../helpers/world.js";

export const H = 3_600_000;
export const reason = "incident INC-4411: checkout is down";
/** The first step's time; a sequence's clock only moves forward from there. */
export const start = Date.parse("2026-12-08T08:00:00Z");

/** The stages and flags of both policies, each open to `allow`. */
export function overridable(allow: string[]) {
  return {
    stages: {
      lint: { mechanism: "status", context: "ci/lint", allow },
      e2e: { mechanism: "status", context: "ci/e2e", allow },
      scan: { mechanism: "variable", variable: "OPTOUT_SKIP_SCAN", allow },
    },
    flags: {
      MAINT: { values: ["on", "off"], allow },
      DEPLOY_TARGET: { values: ["blue", "green"], environments: ["staging", "production"], allow },
    },
  };
}

/** A commit status as a record's `before` holds it. */
export interface Status {
  state: string;
  description: string | null;
  targetUrl: string | null;
}

/** The skipped contexts on main's commit: ci/lint fails before optout (`lint`), ci/e2e has none. */
export const statusStages = [
  { stage: "lint", context: "ci/lint", planted: true },
  { stage: "e2e", context: "ci/e2e", planted: false },
] as const;
/** The variables: a variable skip and flags at repository and environment level, with their values before optout. */
export const variables = [
  { op: "skip", stage: "scan", name: "OPTOUT_SKIP_SCAN", env: null, before: "false" },
  { op: "flag", flag: "MAINT", name: "MAINT", env: null, before: null },
  { op: "flag", flag: "DEPLOY_TARGET", name: "DEPLOY_TARGET", env: "production", before: "green" },
  { op: "flag", flag: "DEPLOY_TARGET", name: "DEPLOY_TARGET", env: "staging", before: null },
] as const;
export const flagTargets = variables.filter((v) => v.op === "flag");
export const values: Record<string, readonly string[]> = {
  MAINT: ["on", "off"],
  DEPLOY_TARGET: ["blue", "green"],
};

export type Action =
  | { k: "skip"; stage: "lint" | "e2e" | "scan"; ttlH: number }
  | { k: "set"; t: number; v: number; ttlH: number }
  | { k: "unset"; t: number }
  | { k: "revert"; pick: number }
  | { k: "tick"; ms: number }
  | { k: "expire" };

const ttl = fc.constantFrom(1, 2, 4);
const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ k: fc.constant("skip" as const), stage: fc.constantFrom("lint", "e2e", "scan"), ttlH: ttl }),
  fc.record({ k: fc.constant("set" as const), t: fc.nat(2), v: fc.nat(1), ttlH: ttl }),
  fc.record({ k: fc.constant("unset" as const), t: fc.nat(2) }),
  fc.record({ k: fc.constant("revert" as const), pick: fc.nat(7) }),
  fc.record({ k: fc.constant("tick" as const), ms: fc.integer({ min: 10 * 60_000, max: 5 * H }) }),
  fc.constant({ k: "expire" as const }),
);
/** A short sequence: at most eight steps. */
export const sequence = fc.array(action, { minLength: 1, maxLength: 8 });

/** fast-check's options: runs and seed from the environment, no shrinking (each run is real git). */
export function runOptions(examples: Action[][] = []) {
  const seed = process.env.OPTOUT_PROPERTY_SEED ? Number(process.env.OPTOUT_PROPERTY_SEED) : undefined;
  return {
    numRuns: Number(process.env.OPTOUT_FORGE_PROPERTY_RUNS) || 15,
    ...(seed !== undefined ? { seed } : {}),
    endOnFailure: true,
    examples: examples.map((e): [Action[]] => [e]),
  };
}

/**
 * The evaluator over the audit branch as the remote holds it, under the policy in force and
 * allowed_signers (read once from `f`, as a command reads them), at the time given.
 */
export async function readerOf(f: Factory, remote: string): Promise<(now: number) => Promise<LedgerView>> {
  const [store, policy, repo, trust] = await Promise.all([
    f.ledgerStore(),
    f.policy(),
    f.repoName(),
    f.trust(),
  ]);
  return async (now) => {
    const ref = `refs/heads/${policy.audit.branch}`;
    const tip = (await git(remote, "rev-parse", "-q", "--verify", ref).catch(() => "")).trim();
    return new LedgerView(
      await evaluateLedger(store.cfg, tip || undefined, policy, repo, trust.signers),
      now,
    );
  };
}

/** How to read a forge fake's state. */
export interface ForgeState {
  /** The newest status of `context` on main's commit. */
  status(context: string): Status | undefined;
  /** The variable's value (null: absent). */
  variable(name: string, env: string | null): string | null;
  /** ci/lint as planted before optout. */
  lintBefore: Status;
  /** What optout posts when it ends a waiver with nothing before (a forge cannot delete a status). */
  placeholder: RegExp;
}

/** Checks that the forge holds what `v` says is in force, target by target. */
export function expectInForce(v: LedgerView, forge: ForgeState, step: string): void {
  const states = [...v.ev.targets.values()];
  const find = (op: string, match: (s: TargetState) => boolean) => {
    const s = states.filter((x) => x.op === op && match(x));
    expect(s.length, `${step}: one target state`).toBeLessThanOrEqual(1);
    return s[0] && v.target(s[0].key).active;
  };
  for (const st of statusStages) {
    const active = find("skip", (s) => s.target.stage === st.stage);
    const latest = forge.status(st.context);
    const before = st.planted ? forge.lintBefore : null;
    const where = `${step}: ${st.context} (${JSON.stringify(latest)})`;
    if (active) {
      expect(latest?.state, where).toBe("success");
      expect(latest?.targetUrl, where).toContain(active.id);
      // What ending it restores is what the forge held before optout; with nothing there, optout's
      // own placeholder from an earlier end stands for the absence.
      const baseline = active.baseline as Status | null;
      if (before === null && baseline !== null) {
        expect(baseline.state, where).toBe("pending");
        expect(baseline.description, where).toMatch(forge.placeholder);
      } else expect(baseline, `${where}: the evaluator's baseline`).toEqual(before);
    } else if (before === null) {
      if (latest)
        expect(latest, where).toMatchObject({
          state: "pending",
          description: expect.stringMatching(forge.placeholder),
        });
    } else expect(latest, where).toEqual(before);
  }
  for (const va of variables) {
    const active =
      va.op === "skip"
        ? find("skip", (s) => s.target.stage === va.stage)
        : find("flag", (s) => s.target.flag === va.flag && (s.target.env ?? null) === va.env);
    const held = forge.variable(va.name, va.env);
    const where = `${step}: ${va.name}${va.env ? `@${va.env}` : ""}`;
    if (active) {
      expect(held, where).toBe((active.after as { value: string | null }).value);
      expect((active.baseline as { value: string | null }).value, `${where}: the evaluator's baseline`).toBe(
        va.before,
      );
    } else expect(held, where).toBe(va.before);
  }
}
