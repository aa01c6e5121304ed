/**
 * A small reference model of what is in force, written from docs/semantics.md and nothing else:
 * it imports no code of optout (only the record's type), so the property test can hold the real
 * evaluator, guard's window and `flag get` against it. It reads the records a chain of honest
 * signers writes (every record here counts as a commit of the chain; what signatures and chain
 * order decide is tested elsewhere) and says what each one changes under a small fixed policy.
 */
import type { LedgerRecord } from "../../src/core/record.js";

export type Kind = "skip" | "flag" | "rollout" | "failover";

/** "Beyond five minutes": how far a record's time may run ahead of what it is checked against. */
export const toleranceMs = 5 * 60_000;

/** The policy the model knows, as plain tables. */
export interface ModelPolicy {
  maxTtlMs: number;
  /** Who may place an override on a target (principals, plain names). */
  allow(kind: Kind, target: Record<string, string | null>): string[];
  /** What a target needs before an override is in force, if anything. */
  approvals(
    kind: Kind,
    target: Record<string, string | null>,
  ): { required: number; from: string[]; timeoutMs: number } | undefined;
  /** Values a flag takes. */
  values(flag: string): string[];
}

export interface MOverride {
  id: string;
  kind: Kind;
  key: string;
  /** Whom it is for: the requester when approved, else its signer. */
  person: string;
  signer: string;
  expiresAt: number | null;
  /** Carried out on a forge or by a command (intent, then result), not by the record alone. */
  external: boolean;
  outcome: "applied" | "unknown";
  before: unknown;
  after: unknown;
}

interface MTarget {
  kind: Kind;
  active?: MOverride;
  /** Rollouts and failovers: what each newer one superseded, oldest first. */
  stack: MOverride[];
  baseline?: unknown;
}

export interface MRequest {
  id: string;
  person: string;
  kind: Kind;
  key: string;
  params: string;
  mechanism: string | null;
  ttlMs: number | null;
  expiresAt: number;
  approvals: string[];
  status: "pending" | "applied" | "rejected" | "expired";
}

interface MOperation {
  id: string;
  signer: string;
  what: "override" | "revert" | "expire";
  status: "running" | "unknown" | "applied" | "failed";
  override?: MOverride;
  /** revert / expire: the override it ends. */
  ends?: string;
}

export function keyOf(kind: Kind, t: Record<string, string | null | undefined>): string {
  switch (kind) {
    case "skip":
      return `skip|${t.stage}|${t.ref ?? ""}|${t.sha ?? ""}`;
    case "flag":
      return `flag|${t.flag}|${t.env ?? ""}`;
    default:
      return `${kind}|${t.env ?? ""}`;
  }
}

const stacks = (k: Kind) => k === "rollout" || k === "failover";

export class Model {
  readonly targets = new Map<string, MTarget>();
  /** Every override that took effect (was in force at some point, or may be live). */
  readonly overrides = new Map<string, MOverride>();
  readonly requests = new Map<string, MRequest>();
  readonly operations = new Map<string, MOperation>();
  /** Overrides a revert or expire ended. */
  private readonly ended = new Set<string>();

  constructor(readonly policy: ModelPolicy) {}

  private target(kind: Kind, key: string): MTarget {
    let t = this.targets.get(key);
    if (!t) {
      t = { kind, stack: [] };
      this.targets.set(key, t);
    }
    return t;
  }

  /** What one record changes. */
  read(r: LedgerRecord): void {
    const at = Date.parse(r.time);
    if (r.type === "skip" || r.type === "flag" || r.type === "rollout" || r.type === "failover") {
      this.override(r, r.type, at);
    } else if (r.type === "result") {
      this.result(r, at);
    } else if (r.type === "expire" && r.links.request) {
      this.closeRequest(r, "expired", at);
    } else if (r.type === "revert" || r.type === "expire") {
      this.end(r, at);
    } else if (r.type === "request") {
      this.request(r, at);
    } else if (r.type === "approve") {
      this.approve(r, at);
    } else if (r.type === "reject") {
      this.closeRequest(r, "rejected", at);
    }
    // deny and review change nothing in force.
  }

  private ttlOk(kind: Kind, start: number, expiresAt: number | null): boolean {
    // Every skip and flag expires, within maxTtl (measured from the record's own time).
    if (expiresAt === null) return stacks(kind);
    return expiresAt - start <= this.policy.maxTtlMs + toleranceMs;
  }

  private override(r: LedgerRecord, kind: Kind, at: number): void {
    if (r.outcome !== "applied" && r.outcome !== "intent") return;
    const key = keyOf(kind, r.target);
    const expiresAt = r.expiresAt === null ? null : Date.parse(r.expiresAt);
    if (!this.ttlOk(kind, at, expiresAt)) return;
    if (kind === "flag") {
      const v = (r.after as { value?: unknown } | null)?.value;
      if (typeof v !== "string" || !this.policy.values(r.target.flag ?? "").includes(v)) return;
    }
    const needs = this.policy.approvals(kind, r.target);
    let person = r.signer;
    if (r.links.request) {
      const q = this.requests.get(r.links.request);
      // Applies what was asked (target, parameters, TTL), in time, with the approvals behind it,
      // by the requester or one of the approvers.
      if (!q) return;
      if (q.status !== "pending" || at > q.expiresAt + toleranceMs) return;
      if (q.kind !== kind || q.key !== key) return;
      if (q.params !== JSON.stringify(r.params ?? {}) || q.mechanism !== r.mechanism) return;
      if (
        q.ttlMs === null ? expiresAt !== null : expiresAt === null || expiresAt - at > q.ttlMs + toleranceMs
      )
        return;
      if (q.approvals.length < (needs?.required ?? 0)) return;
      if (r.signer !== q.person && !q.approvals.includes(r.signer)) return;
      q.status = "applied";
      person = q.person;
    } else {
      if (needs) return;
      if (!this.policy.allow(kind, r.target).includes(r.signer)) return;
    }
    const o: MOverride = {
      id: r.id,
      kind,
      key,
      person,
      signer: r.signer,
      expiresAt,
      external: r.outcome === "intent",
      outcome: "applied",
      before: r.before,
      after: r.after,
    };
    if (r.outcome === "intent") {
      this.operations.set(r.id, {
        id: r.id,
        signer: r.signer,
        what: "override",
        status: "running",
        override: o,
      });
      return;
    }
    this.place(o, at);
  }

  /** Puts an override in force: skips and flags replace, rollouts and failovers stack. */
  private place(o: MOverride, at: number): void {
    this.overrides.set(o.id, o);
    const t = this.target(o.kind, o.key);
    const prev = t.active;
    if (!stacks(o.kind)) {
      // A ledger-only override that ran out stopped counting: the new one starts from its own
      // `before`. Otherwise the baseline from before the first override is carried forward.
      const over = prev && !prev.external && prev.expiresAt !== null && prev.expiresAt <= at;
      if (!prev || over) t.baseline = o.before ?? null;
      t.active = o;
      return;
    }
    if (prev) t.stack.push(prev);
    t.active = o;
  }

  private result(r: LedgerRecord, at: number): void {
    const op = r.links.intent ? this.operations.get(r.links.intent) : undefined;
    if (!op || op.status === "applied" || op.status === "failed") return;
    // A result is its operator's, or written by `sync` reading the forge.
    if (r.signer !== op.signer && r.settledBy !== "sync") return;
    const outcome = r.outcome;
    if (outcome !== "applied" && outcome !== "failed" && outcome !== "unknown") return;
    const was = op.status;
    op.status = outcome;
    if (op.what !== "override") {
      if (outcome === "applied" && op.ends) this.finish(op.ends);
      return;
    }
    const o = op.override!;
    if (outcome === "failed") {
      // Never happened: a rollout or failover that was placed while unknown leaves its stack.
      if (was === "unknown" && stacks(o.kind)) this.remove(o);
      return;
    }
    if (r.after !== undefined && r.after !== null) o.after = r.after;
    if (outcome === "unknown") {
      o.outcome = "unknown";
      // A rollout or failover that may be live takes its place, to be reverted or settled.
      if (stacks(o.kind) && was === "running") this.place(o, at);
      return;
    }
    o.outcome = "applied";
    if (!(stacks(o.kind) && was === "unknown")) this.place(o, at);
  }

  private remove(o: MOverride): void {
    const t = this.targets.get(o.key);
    if (!t) return;
    if (t.active?.id === o.id) t.active = t.stack.pop();
    else t.stack = t.stack.filter((x) => x.id !== o.id);
    this.overrides.delete(o.id);
  }

  /** A revert or expire: only of the override on top of its target. */
  private end(r: LedgerRecord, at: number): void {
    const id = r.links.reverts;
    const o = id ? this.overrides.get(id) : undefined;
    if (!o) return;
    const t = this.targets.get(o.key);
    if (t?.active?.id !== o.id) return;
    if (r.type === "expire") {
      if (o.expiresAt === null || o.expiresAt > at + toleranceMs) return;
    } else {
      const own = r.signer === o.person || r.signer === o.signer;
      if (!own && !this.policy.allow(o.kind, targetOfKey(o.key)).includes(r.signer)) return;
    }
    if (r.outcome === "intent") {
      this.operations.set(r.id, {
        id: r.id,
        signer: r.signer,
        what: r.type === "expire" ? "expire" : "revert",
        status: "running",
        ends: o.id,
      });
      return;
    }
    if (r.outcome === "applied") this.finish(o.id);
  }

  /** Ends an override still on top: skips and flags restore the baseline; stacks pop. */
  private finish(id: string): void {
    const o = this.overrides.get(id);
    const t = o ? this.targets.get(o.key) : undefined;
    if (!o || !t || t.active?.id !== id) return;
    this.ended.add(id);
    if (stacks(o.kind)) {
      t.active = t.stack.pop();
    } else {
      t.active = undefined;
      t.baseline = undefined;
    }
  }

  private request(r: LedgerRecord, at: number): void {
    if (r.outcome !== "pending" || !r.op) return;
    const kind = r.op as Kind;
    const ttlMs = typeof r.ttlMs === "number" ? r.ttlMs : null;
    if (ttlMs === null ? !stacks(kind) : ttlMs > this.policy.maxTtlMs) return;
    if (!this.policy.allow(kind, r.target).includes(r.signer)) return;
    this.requests.set(r.id, {
      id: r.id,
      person: r.signer,
      kind,
      key: keyOf(kind, r.target),
      params: JSON.stringify(r.params ?? {}),
      mechanism: r.mechanism,
      ttlMs,
      expiresAt: r.expiresAt ? Date.parse(r.expiresAt) : at,
      approvals: [],
      status: "pending",
    });
  }

  private approve(r: LedgerRecord, at: number): void {
    const q = r.links.request ? this.requests.get(r.links.request) : undefined;
    if (!q) return;
    if (q.status !== "pending" || at > q.expiresAt + toleranceMs) return;
    const needs = this.policy.approvals(q.kind, targetOfKey(q.key));
    // Someone else than the requester, allowed to approve, once.
    if (!needs || r.signer === q.person || q.approvals.includes(r.signer)) return;
    if (!needs.from.includes(r.signer)) return;
    q.approvals.push(r.signer);
  }

  private closeRequest(r: LedgerRecord, how: "rejected" | "expired", at: number): void {
    const q = r.links.request ? this.requests.get(r.links.request) : undefined;
    if (q?.status !== "pending") return;
    if (how === "expired" && q.expiresAt > at + toleranceMs) return;
    if (how === "rejected") {
      const from = this.policy.approvals(q.kind, targetOfKey(q.key))?.from ?? [];
      if (r.signer !== q.person && !from.includes(r.signer)) return;
    }
    q.status = how;
  }

  // ---- what holds at a moment ----

  /** The override in force on a target at `now` (due: past its TTL, still on the forge). */
  inForce(key: string, now: number): (MOverride & { due: boolean; baseline: unknown }) | undefined {
    const t = this.targets.get(key);
    const a = t?.active;
    if (!t || !a) return undefined;
    const lapsed = a.expiresAt !== null && a.expiresAt <= now;
    // A ledger-only override stops counting the moment its TTL passes.
    if (lapsed && !a.external) return undefined;
    return { ...a, due: lapsed, baseline: t.baseline ?? null };
  }

  /** What `optout expire` ends at `now`: the overrides whose TTL passed that no record ended yet. */
  due(now: number): string[] {
    return [...this.targets.values()]
      .flatMap((t) =>
        t.active && t.active.expiresAt !== null && t.active.expiresAt <= now ? [t.active.id] : [],
      )
      .sort();
  }

  /** Who has approved a request so far. */
  approvals(id: string): string[] {
    return [...(this.requests.get(id)?.approvals ?? [])];
  }

  /** Rollouts and failovers: the ids below the top, oldest first. */
  below(key: string): string[] {
    return (this.targets.get(key)?.stack ?? []).map((o) => o.id);
  }

  /** What guard honours: a skip applied and within its TTL. */
  skip(stage: string, ref: string, now: number): string | undefined {
    const a = this.inForce(keyOf("skip", { stage, ref, sha: null }), now);
    return a && !a.due && a.outcome === "applied" ? a.id : undefined;
  }

  /** What `flag get` prints: the value optout has in force (undefined: not overridden). */
  flag(flag: string, env: string | null, now: number): string | undefined {
    const a = this.inForce(keyOf("flag", { flag, env }), now);
    if (!a || a.due || a.outcome !== "applied") return undefined;
    const v = (a.after as { value?: unknown } | null)?.value;
    return typeof v === "string" ? v : undefined;
  }

  /** Requests still waiting for approvals at `now`. */
  pending(now: number): string[] {
    return [...this.requests.values()]
      .filter((q) => q.status === "pending" && q.expiresAt > now)
      .map((q) => q.id)
      .sort();
  }

  /**
   * Operations whose outcome is not known: no result yet, or an unknown one not placed among the
   * overrides (a rollout or failover with an unknown outcome is in force instead: it may be live).
   */
  unsettled(): string[] {
    return [...this.operations.values()]
      .filter(
        (o) =>
          o.status === "running" ||
          (o.status === "unknown" &&
            // A revert or expire left unknown is answered once another one ends its override.
            (o.what === "override" ? !stacks(o.override!.kind) : !this.ended.has(o.ends!))),
      )
      .map((o) => o.id)
      .sort();
  }
}

function targetOfKey(key: string): Record<string, string | null> {
  const [kind, a, b, c] = key.split("|");
  switch (kind) {
    case "skip":
      return { stage: a ?? null, ref: b || null, sha: c || null };
    case "flag":
      return { flag: a ?? null, env: b || null };
    default:
      return { env: a || null };
  }
}
