/**
 * What is in force: the one evaluator of the ledger. `(valid records, policy in force) → state`,
 * then `view(now)` for what holds at a moment. Every reader asks it — status, guard, flag get/list,
 * failover --show, report, log --unreviewed, and the planning of revert, expire, approve and sync —
 * so they cannot disagree. docs/semantics.md states the rules in prose; this file is them.
 *
 * Semantics in brief:
 * - One active override per target (a stage on a ref or commit, a flag in an environment, the
 *   rollout of an environment, the failover of an environment).
 * - Skips and flags: a new override replaces the active one; the baseline (the state before
 *   optout's first override) is carried forward; ending (TTL, revert, expire, flag unset) restores
 *   the baseline, and nothing that has ended is applied again.
 * - Rollouts and failovers stack: reverting the newest returns to its `before` and makes the one
 *   it superseded current again; reverting one that a newer one superseded is refused.
 * - A record means only what its signature and the policy in force allow: an override by someone
 *   the policy does not allow, beyond maxTtl, without the approvals the policy requires, with a
 *   value the policy does not declare, has no effect (and is reported).
 * - An operation the forge did not confirm is `unknown` until `optout sync` settles it.
 */
import {
  type ChainContext,
  type ChainTail,
  type CommitEntry,
  chainProblem,
  clockToleranceMs,
  recordPathOf,
  recordProblem,
} from "./chain.js";
import {
  type Approvals,
  approvalsFor,
  type EntryRules,
  entryRules,
  type Policy,
  type Principal,
  principalToString,
  userNames,
} from "./policy.js";
import {
  type ActiveIndex,
  flagValue,
  type IndexEntry,
  type LedgerRecord,
  type OverrideType,
  overrideTypes,
  scopeKey,
  type Target,
} from "./record.js";
import { hasControl, visibleLength } from "./text.js";

/** The parts of the policy the evaluator reads. */
export type PolicyView = Pick<Policy, "stages" | "flags" | "rollout" | "failover" | "review">;

/** An override that took effect (or whose outcome is unknown). */
export interface Override {
  /** The override's id: its own record's (the intent's, when a forge applied it). `revert` takes it. */
  id: string;
  op: OverrideType;
  key: string;
  target: Target;
  mechanism: string | null;
  /** The override record (an applied ledger-only record, or the intent). */
  record: LedgerRecord;
  /** The result that reported it applied, for forge overrides. */
  result?: LedgerRecord;
  /** Who it is for: the requester when approved, else who made it (allowed_signers principal). */
  person: string;
  /** Their forge login (the principal on plain git), for display. */
  login: string;
  approvers: string[];
  /** When it took effect (ISO). */
  since: string;
  expiresAt: string | null;
  /** The state just before it and the state it put in place (from its records). */
  before: unknown;
  after: unknown;
  /** The override it replaced (skip, flag) or superseded (rollout, failover). */
  replaces?: string;
  /** `unknown`: the forge did not confirm it; `optout sync` settles it. */
  outcome: "applied" | "unknown";
  /** Whether a forge or command carried it out (intent → result) rather than the record alone. */
  external: boolean;
  /** Principals in `allow` that could not be checked offline (teams, groups, roles). */
  unchecked: Principal[];
}

export type EndKind = "reverted" | "expired" | "replaced" | "superseded" | "failed";

export interface Ended {
  override: Override;
  how: EndKind;
  /** The record that ended it (a revert, expire or the replacing override); null for a TTL that ran out unrecorded. */
  by: string | null;
  at: string;
}

export interface TargetState {
  key: string;
  op: OverrideType;
  target: Target;
  /** The override in force (for rollouts and failovers: the newest, on top of the stack). */
  active?: Override;
  /** Rollouts and failovers: the ones below the top, newest last, each current again once the one above is reverted. */
  stack: Override[];
  /** Skips and flags: the state from before optout's first override still in place (what ending restores). */
  baseline?: unknown;
  ended: Ended[];
}

export type RequestStatus = "pending" | "applied" | "rejected" | "expired";

export interface RequestState {
  record: LedgerRecord;
  key: string;
  person: string;
  approvals: { record: LedgerRecord; person: string; login: string }[];
  status: RequestStatus;
  /** The record that applied, rejected or closed it. */
  closedBy?: string;
  required: number;
}

/** An intent (override, revert or expire carried out on a forge or by a command) and its results. */
export interface Operation {
  intent: LedgerRecord;
  kind: "override" | "revert" | "expire";
  key: string;
  /** running: no result yet; unknown: a result said the forge did not confirm. */
  status: "running" | "unknown" | "applied" | "failed";
  results: LedgerRecord[];
}

export interface Alert {
  commit: string;
  id: string | null;
  seq: number | null;
  path: string | null;
  problem: string;
  /** junk: the record does not count at all; unauthorized: it counts, but the policy in force gives it no effect. */
  kind: "junk" | "unauthorized";
  /** For unauthorized overrides: until when it would have been in force (null: until reverted). */
  wouldExpire?: string | null;
}

export interface ValidRecord {
  record: LedgerRecord;
  commit: string;
  path: string;
}

const tol = clockToleranceMs;

const isOverride = (t: string): t is OverrideType => (overrideTypes as readonly string[]).includes(t);

const timeOf = (r: { time: string }) => Date.parse(r.time);

/** The key an override's target competes under: the target's identity, per type. */
export function targetKey(op: string | null, target: Target): string {
  return scopeKey(op, target);
}

/** The environment a target is in (approvals.environments are matched against it). */
function envOf(op: OverrideType, target: Target): string | null {
  return op === "skip" ? null : (target.env ?? null);
}

/**
 * The evaluator. Feed it the audit branch's commits oldest first (`add`), then ask `view(now)`.
 * It keeps no clock of its own: everything time-dependent is decided in `view`.
 */
export class LedgerEvaluator {
  readonly valid: ValidRecord[] = [];
  readonly alerts: Alert[] = [];
  tail: ChainTail | undefined;
  readonly targets = new Map<string, TargetState>();
  readonly requests = new Map<string, RequestState>();
  /** Every override that took effect, by id. */
  readonly overrides = new Map<string, Override>();
  readonly operations = new Map<string, Operation>();
  /** Valid review records, in order. */
  readonly reviews: LedgerRecord[] = [];
  private readonly known = new Map<string, { index: number; seq: number }>();
  private readonly ids = new Set<string>();
  private count = 0;

  constructor(
    readonly policy: PolicyView,
    readonly ctx: ChainContext,
  ) {}

  /**
   * Starts a partial evaluation (guard's window) at `e`: it counts if it holds up on its own
   * (signature, key, identity, repository); what came before it is not known here.
   */
  anchor(e: CommitEntry): void {
    if (this.count !== 0) throw new Error("anchor() starts an evaluation");
    const index = this.count++;
    const r = e.record;
    const problem = recordProblem(e, this.ctx);
    if (problem || !r || !e.hash) {
      this.alerts.push({
        commit: e.commit,
        id: typeof r?.id === "string" ? r.id : null,
        seq: typeof r?.seq === "number" ? r.seq : null,
        path: e.path ?? null,
        problem: problem ?? "commit adds no readable record",
        kind: "junk",
      });
      return;
    }
    this.known.set(e.hash, { index, seq: r.seq });
    this.accept(e, r, index);
  }

  /** Adds the next commit of the first-parent chain. */
  add(e: CommitEntry): void {
    const index = this.count++;
    const problem = chainProblem(e, this.tail, this.known, this.ids, this.ctx);
    const r = e.record;
    if (e.hash && r && Number.isInteger(r.seq)) this.known.set(e.hash, { index, seq: r.seq });
    if (problem || !r || !e.hash) {
      this.alerts.push({
        commit: e.commit,
        id: typeof r?.id === "string" ? r.id : null,
        seq: typeof r?.seq === "number" ? r.seq : null,
        path: e.path ?? null,
        problem: problem ?? "commit adds no readable record",
        kind: "junk",
      });
      return;
    }
    this.accept(e, r, index);
  }

  private accept(e: CommitEntry, r: LedgerRecord, index: number): void {
    this.tail = { hash: e.hash!, seq: r.seq, time: timeOf(r), id: r.id, index };
    this.ids.add(r.id);
    this.valid.push({ record: r, commit: e.commit, path: e.path ?? "" });
    const refused = this.apply(r, e.signature?.ok ? e.signature.key : undefined);
    if (refused) {
      this.alerts.push({
        commit: e.commit,
        id: r.id,
        seq: r.seq,
        path: e.path ?? null,
        problem: refused,
        kind: "unauthorized",
        ...(isOverride(r.type) || r.type === "request" ? { wouldExpire: r.expiresAt } : {}),
      });
    }
  }

  // ---- effects ----

  /** Applies a valid record's effect; returns why it has none when the policy does not allow it. */
  private apply(r: LedgerRecord, key?: Uint8Array): string | undefined {
    if (isOverride(r.type)) return this.override(r);
    switch (r.type) {
      case "result":
        return this.result(r);
      case "revert":
      case "expire":
        return r.links.request && r.type === "expire" ? this.closeRequest(r, "expired") : this.restore(r);
      case "request":
        return this.request(r);
      case "approve":
        return this.approve(r, key);
      case "reject":
        return this.closeRequest(r, "rejected");
      case "review":
        return this.review(r);
      default:
        // deny: an attempt on the record, nothing in force changes.
        return undefined;
    }
  }

  private state(op: OverrideType, target: Target): TargetState {
    const key = targetKey(op, target);
    let s = this.targets.get(key);
    if (!s) {
      s = { key, op, target, stack: [], ended: [] };
      this.targets.set(key, s);
    }
    return s;
  }

  private login(r: LedgerRecord): string {
    return r.actor.login;
  }

  private person(r: LedgerRecord): string {
    return r.signer;
  }

  /** Why `r` (an override, or a request for one) breaks the policy entry's rules; undefined when it does not. */
  private entryProblem(r: LedgerRecord, op: OverrideType): { rules?: EntryRules; problem?: string } {
    if (r.actor.provider !== this.ctx.provider) {
      return { problem: `record is for provider ${r.actor.provider}, the policy's is ${this.ctx.provider}` };
    }
    const t = r.target;
    const rules = entryRules(this.policy, op, t);
    const label = describeTarget(op, t);
    if (!rules) return { problem: `the policy has no entry for ${label}` };
    for (const [k, v] of Object.entries(t)) {
      if (typeof v === "string" && hasControl(v))
        return { rules, problem: `target ${k} holds a control character` };
    }
    const value = valueProblem(this.policy, op, r);
    if (value) return { rules, problem: value };
    const reason = typeof r.reason === "string" ? r.reason : "";
    if (visibleLength(reason) < rules.reasonMinLength) {
      return {
        rules,
        problem: `reason has fewer than the ${rules.reasonMinLength} characters ${label} needs`,
      };
    }
    if (hasControl(reason)) return { rules, problem: "reason holds a control character" };
    const ticket = typeof r.ticket === "string" ? r.ticket : "";
    if (rules.ticket.required && !ticket) return { rules, problem: `${label} needs a ticket` };
    if (ticket && (hasControl(ticket) || (rules.ticket.pattern && !rules.ticket.pattern.test(ticket)))) {
      return { rules, problem: `ticket ${JSON.stringify(ticket)} does not match the policy's pattern` };
    }
    return { rules };
  }

  /** Whether the policy lets `login` (principal `person`) act under `allow`, as far as can be told offline. */
  private allows(
    allow: readonly Principal[],
    login: string,
    person: string,
  ): { ok: boolean; unchecked: Principal[] } {
    const users = allow.filter((p) => p.kind === "user");
    const named = (p: { login: string }) =>
      userNames(p, login, this.ctx.provider) || userNames(p, person, this.ctx.provider);
    if (users.some((p) => p.kind === "user" && named(p))) {
      return { ok: true, unchecked: [] };
    }
    // Teams, groups and roles need the forge to check; offline they are believed, and said so.
    const others = allow.filter((p) => p.kind !== "user");
    return { ok: others.length > 0, unchecked: others };
  }

  private ttlProblem(
    rules: EntryRules,
    op: OverrideType,
    start: number,
    expiresAt: string | null,
  ): string | undefined {
    if (expiresAt === null) {
      // Every skip and flag expires; rollouts and failovers are reverted, unless the policy gives a TTL.
      return op === "skip" || op === "flag" ? "it has no expiry; every skip and flag must expire" : undefined;
    }
    const end = Date.parse(expiresAt);
    if (Number.isNaN(end)) return "expiresAt is not a time";
    if (end - start > rules.maxTtlMs + tol) {
      return `its TTL (${hours(end - start)}) is longer than the ${hours(rules.maxTtlMs)} the policy allows`;
    }
    return undefined;
  }

  private override(r: LedgerRecord): string | undefined {
    const op = r.type as OverrideType;
    if (r.outcome !== "applied" && r.outcome !== "intent")
      return `an override record with outcome ${r.outcome}`;
    const { rules, problem } = this.entryProblem(r, op);
    if (problem || !rules) return problem;
    const ttl = this.ttlProblem(rules, op, timeOf(r), r.expiresAt);
    if (ttl) return ttl;
    let person = this.person(r);
    let login = this.login(r);
    let approvers: string[] = [];
    let unchecked: Principal[] = [];
    const needs = approvalsFor(rules, envOf(op, r.target));
    if (r.links.request) {
      const req = this.requests.get(r.links.request);
      const why = this.applicationProblem(r, req, needs);
      if (why || !req) return why ?? "its request is unknown";
      person = req.person;
      login = req.record.actor.login;
      approvers = req.approvals.map((a) => a.login);
      req.status = "applied";
      req.closedBy = r.id;
    } else {
      if (needs) return `it needs ${needs.required} approval(s) and names no approved request`;
      const allowed = this.allows(rules.allow, login, person);
      if (!allowed.ok) return `${login} may not ${verb(op)} ${describeTarget(op, r.target)}`;
      unchecked = allowed.unchecked;
    }
    if (r.requester !== undefined && r.requester !== login) {
      return `it names ${JSON.stringify(r.requester)} as requester; the request was ${login}'s`;
    }
    if (r.approvers?.some((a) => !approvers.includes(a))) {
      return `it names approvers ${JSON.stringify(r.approvers)}; the signed approvals are ${JSON.stringify(approvers)}`;
    }
    const o: Override = {
      id: r.id,
      op,
      key: targetKey(op, r.target),
      target: r.target,
      mechanism: r.mechanism,
      record: r,
      person,
      login,
      approvers,
      since: r.time,
      expiresAt: r.expiresAt,
      before: r.before,
      after: r.after,
      outcome: "applied",
      external: r.outcome === "intent",
      unchecked,
    };
    if (r.outcome === "intent") {
      this.operations.set(r.id, { intent: r, kind: "override", key: o.key, status: "running", results: [] });
      this.pendingOverrides.set(r.id, o);
      return undefined;
    }
    this.activate(o, r);
    return undefined;
  }

  /** Overrides carried out by a forge or command, waiting for their result. */
  private readonly pendingOverrides = new Map<string, Override>();

  /** Why `r` may not apply the request `req`; undefined when it may. */
  private applicationProblem(
    r: LedgerRecord,
    req: RequestState | undefined,
    needs: Approvals | undefined,
  ): string | undefined {
    if (!req) return `its request ${r.links.request} is not a valid request`;
    if (req.status !== "pending") return `its request ${req.record.id} is ${req.status}`;
    const q = req.record;
    if (q.expiresAt && timeOf(r) > Date.parse(q.expiresAt) + tol) return `its request ${q.id} had expired`;
    if (q.op !== r.type || targetKey(q.op, q.target) !== targetKey(r.type, r.target)) {
      return `it does not apply what request ${q.id} asked for`;
    }
    if (JSON.stringify(q.params ?? {}) !== JSON.stringify(r.params ?? {}) || q.mechanism !== r.mechanism) {
      return `its parameters differ from request ${q.id}'s`;
    }
    const ttlMs = typeof q.ttlMs === "number" ? q.ttlMs : null;
    if (
      ttlMs === null
        ? r.expiresAt !== null
        : !r.expiresAt || Date.parse(r.expiresAt) - timeOf(r) > ttlMs + tol
    ) {
      return `its expiry is not the TTL request ${q.id} asked for`;
    }
    const required = needs?.required ?? 0;
    if (req.approvals.length < required) {
      return `request ${q.id} has ${req.approvals.length} of the ${required} approvals the policy requires`;
    }
    const by = this.person(r);
    if (by !== req.person && !req.approvals.some((a) => a.person === by)) {
      return `${this.login(r)} applied request ${q.id} without being its requester or an approver`;
    }
    return undefined;
  }

  /** Puts an override in force on its target. */
  private activate(o: Override, at: LedgerRecord): void {
    this.overrides.set(o.id, o);
    const s = this.state(o.op, o.target);
    const now = timeOf(at);

    const prev = s.active;
    if (o.op === "skip" || o.op === "flag") {
      if (!prev) {
        s.baseline = o.before ?? null;
      } else if (!prev.external && prev.expiresAt !== null && Date.parse(prev.expiresAt) <= now) {
        // A ledger-only override ends with its TTL: this one starts afresh.
        s.ended.push({ override: prev, how: "expired", by: null, at: prev.expiresAt });
        s.baseline = o.before ?? null;
      } else {
        // Still in force, or still on the forge until `optout expire` restores it: replaced, and
        // the baseline from before the first override is carried forward.
        s.ended.push({ override: prev, how: "replaced", by: o.id, at: at.time });
        o.replaces = prev.id;
      }
      s.active = o;
      return;
    }
    if (prev) {
      s.stack.push(prev);
      o.replaces = prev.id;
    }
    s.active = o;
  }

  private result(r: LedgerRecord): string | undefined {
    const id = r.links.intent;
    const op = id ? this.operations.get(id) : undefined;
    if (!op) return undefined; // the delivery record of a ledger-only override: nothing changes
    if (op.status === "applied" || op.status === "failed") return `operation ${id} already has its result`;
    if (this.person(r) !== this.person(op.intent) && r.settledBy !== "sync") {
      return `${this.login(r)} recorded the result of ${this.login(op.intent)}'s operation ${id}`;
    }
    op.results.push(r);
    const outcome = r.outcome as string;
    if (outcome !== "applied" && outcome !== "failed" && outcome !== "unknown") {
      return `a result with outcome ${outcome}`;
    }
    const wasUnknown = op.status === "unknown";
    op.status = outcome;
    if (op.kind === "override") {
      const o = this.pendingOverrides.get(op.intent.id);
      if (!o) return undefined;
      if (outcome === "failed") {
        this.pendingOverrides.delete(op.intent.id);
        if (wasUnknown) this.dropUnknown(o, r);
        return undefined;
      }
      o.result = r;
      o.after = r.after ?? o.after;
      o.since = r.time;
      if (outcome === "unknown") {
        // Rollouts and failovers may be live: they take their place, to be reverted or settled.
        // Once: a second unknown result (sync could not tell either) leaves the place as it is.
        o.outcome = "unknown";
        if ((o.op === "rollout" || o.op === "failover") && !wasUnknown) this.activate(o, r);
        return undefined;
      }
      o.outcome = "applied";
      this.pendingOverrides.delete(op.intent.id);
      if (!wasUnknown || !(o.op === "rollout" || o.op === "failover")) this.activate(o, r);
      return undefined;
    }
    if (outcome === "applied") this.end(op.intent, r);
    return undefined;
  }

  /** A rollout or failover first recorded `unknown`, then settled as failed: it never took its place. */
  private dropUnknown(o: Override, by: LedgerRecord): void {
    const s = this.targets.get(o.key);
    if (!s) return;
    if (s.active?.id === o.id) {
      s.active = s.stack.pop();
    } else {
      s.stack = s.stack.filter((x) => x.id !== o.id);
    }
    this.overrides.delete(o.id);
    s.ended.push({ override: o, how: "failed", by: by.id, at: by.time });
  }

  /** A revert or expire record (applied at once, or the intent of one). */
  private restore(r: LedgerRecord): string | undefined {
    const id = r.links.reverts;
    const target = id ? this.overrides.get(id) : undefined;
    if (!id || !target) return `it ends ${id ?? "nothing"}, which is not an override in force`;
    const s = this.targets.get(target.key);
    if (!s || s.active?.id !== id) {
      const newer = s?.active;
      return newer && s?.stack.some((x) => x.id === id)
        ? `it reverts ${id}, which ${newer.id} superseded`
        : `it ends ${id}, which is no longer in force`;
    }
    if (r.type === "expire") {
      if (!target.expiresAt || Date.parse(target.expiresAt) > timeOf(r) + tol) {
        return `it expires ${id} before its TTL ran out`;
      }
    } else {
      const rules = entryRules(this.policy, target.op, target.target);
      const same = this.person(r) === target.person || this.person(r) === this.person(target.record);
      if (!same && !(rules && this.allows(rules.allow, this.login(r), this.person(r)).ok)) {
        return `${this.login(r)} may not revert ${id}`;
      }
    }
    if (r.outcome === "intent") {
      this.operations.set(r.id, {
        intent: r,
        kind: r.type === "expire" ? "expire" : "revert",
        key: target.key,
        status: "running",
        results: [],
      });
      return undefined;
    }
    if (r.outcome !== "applied") return `a ${r.type} record with outcome ${r.outcome}`;
    this.end(r, r);
    return undefined;
  }

  /** Ends the override `intent` (a revert or expire) names, as of `at`. */
  private end(intent: LedgerRecord, at: LedgerRecord): void {
    const id = intent.links.reverts;
    const o = id ? this.overrides.get(id) : undefined;
    if (!o) return;
    const s = this.targets.get(o.key);
    if (!s || s.active?.id !== o.id) return;
    s.ended.push({
      override: o,
      how: intent.type === "expire" ? "expired" : "reverted",
      by: intent.id,
      at: at.time,
    });
    if (o.op === "skip" || o.op === "flag") {
      s.active = undefined;
      s.baseline = undefined;
    } else {
      s.active = s.stack.pop();
    }
  }

  private request(r: LedgerRecord): string | undefined {
    if (r.outcome !== "pending") return `a request with outcome ${r.outcome}`;
    const op = r.op;
    if (!op || !isOverride(op)) return "a request for no kind of override";
    const asOverride = { ...r, type: op } as LedgerRecord;
    const { rules, problem } = this.entryProblem(asOverride, op);
    if (problem || !rules) return problem;
    const ttlMs = typeof r.ttlMs === "number" ? r.ttlMs : null;
    if (ttlMs === null ? op === "skip" || op === "flag" : ttlMs > rules.maxTtlMs) {
      return ttlMs === null
        ? "it asks for no expiry; every skip and flag must expire"
        : `it asks for a TTL (${hours(ttlMs)}) longer than the ${hours(rules.maxTtlMs)} the policy allows`;
    }
    const allowed = this.allows(rules.allow, this.login(r), this.person(r));
    if (!allowed.ok) return `${this.login(r)} may not ${verb(op)} ${describeTarget(op, r.target)}`;
    this.requests.set(r.id, {
      record: r,
      key: targetKey(op, r.target),
      person: this.person(r),
      approvals: [],
      status: "pending",
      required: approvalsFor(rules, envOf(op, r.target))?.required ?? 0,
    });
    return undefined;
  }

  private approve(r: LedgerRecord, key?: Uint8Array): string | undefined {
    const req = r.links.request ? this.requests.get(r.links.request) : undefined;
    if (!req) return `it approves ${r.links.request ?? "nothing"}, which is not a valid request`;
    if (req.status !== "pending") return `it approves request ${req.record.id}, which is ${req.status}`;
    const q = req.record;
    if (q.expiresAt && timeOf(r) > Date.parse(q.expiresAt) + tol)
      return `it approves request ${q.id} after it expired`;
    const by = this.person(r);
    if (by === req.person) return `${this.login(r)} approved their own request ${q.id}`;
    // One person, two principals: an approval signed with any key of the requester is theirs.
    const theirs = this.ctx.keys.keysOf(req.person);
    if (key && theirs.some((t) => Buffer.compare(Buffer.from(key), Buffer.from(t)) === 0)) {
      return `${this.login(r)} signs with a key of ${req.person}, the requester`;
    }
    if (req.approvals.some((a) => a.person === by))
      return `${this.login(r)} already approved request ${q.id}`;
    const rules = q.op && isOverride(q.op) ? entryRules(this.policy, q.op, q.target) : undefined;
    const needs = rules && q.op && isOverride(q.op) ? approvalsFor(rules, envOf(q.op, q.target)) : undefined;
    if (!needs) return `request ${q.id} needs no approval under the policy in force`;
    if (!this.allows(needs.from, this.login(r), by).ok) {
      return `${this.login(r)} may not approve it (approvals come from ${needs.from.map(principalToString).join(", ")})`;
    }
    req.approvals.push({ record: r, person: by, login: this.login(r) });
    return undefined;
  }

  private closeRequest(r: LedgerRecord, status: "rejected" | "expired"): string | undefined {
    const req = r.links.request ? this.requests.get(r.links.request) : undefined;
    if (!req) return `it closes ${r.links.request ?? "nothing"}, which is not a valid request`;
    if (req.status !== "pending") return undefined; // already closed: nothing changes
    const q = req.record;
    if (status === "expired") {
      if (q.expiresAt && Date.parse(q.expiresAt) > timeOf(r) + tol)
        return `it closes request ${q.id} before it expired`;
    } else {
      const by = this.person(r);
      const rules = q.op && isOverride(q.op) ? entryRules(this.policy, q.op, q.target) : undefined;
      const from = rules?.approvals?.from ?? [];
      if (by !== req.person && !this.allows(from, this.login(r), by).ok) {
        return `${this.login(r)} may not reject request ${q.id}`;
      }
    }
    req.status = status;
    req.closedBy = r.id;
    return undefined;
  }

  private review(r: LedgerRecord): string | undefined {
    const id = r.target.override;
    const o = id ? this.overrides.get(id) : undefined;
    if (!o) return `it reviews ${id ?? "nothing"}, which is not an override that took effect`;
    const s = this.policy.review;
    if (!s.allowSelf && (this.person(r) === o.person || this.person(r) === this.person(o.record))) {
      return `${this.login(r)} reviewed their own override ${id}`;
    }
    if (s.allow && !this.allows(s.allow, this.login(r), this.person(r)).ok) {
      return `${this.login(r)} may not review overrides`;
    }
    this.reviews.push(r);
    return undefined;
  }

  // ---- what holds at a moment ----

  /** What is in force at `now`. */
  view(now: Date): LedgerView {
    return new LedgerView(this, now.getTime());
  }
}

/** An active override as `view` sees it at a moment. */
export interface InForce extends Override {
  /** Its TTL ran out, but optout has not restored the forge yet (`optout expire` does). */
  due: boolean;
  /** Skips and flags: what ending it restores (null: nothing was there before optout). */
  baseline: unknown;
}

export class LedgerView {
  constructor(
    readonly ev: LedgerEvaluator,
    readonly now: number,
  ) {}

  /** The override in force on a target (or due for expiry on a forge), if any. */
  target(key: string): { active?: InForce; state?: TargetState } {
    const s = this.ev.targets.get(key);
    if (!s?.active) return s ? { state: s } : {};
    const a = s.active;
    // A record from the future is not believed until its time comes.
    if (Date.parse(a.record.time) > this.now + tol) return { state: s };
    const lapsed = a.expiresAt !== null && Date.parse(a.expiresAt) <= this.now;
    if (lapsed && !a.external) return { state: s };
    return { active: { ...a, due: lapsed, baseline: s.baseline ?? null }, state: s };
  }

  /**
   * Overrides whose TTL has passed but that no record has ended yet: what `optout expire` ends
   * (restoring the forge, or recording the end of a ledger-only one), oldest first.
   */
  expired(): InForce[] {
    const out: InForce[] = [];
    for (const s of this.ev.targets.values()) {
      const a = s.active;
      if (!a || a.expiresAt === null || Date.parse(a.expiresAt) > this.now) continue;
      if (Date.parse(a.record.time) > this.now + tol) continue;
      out.push({ ...a, due: true, baseline: s.baseline ?? null });
    }
    return out.sort((a, b) => (a.since < b.since ? -1 : a.since > b.since ? 1 : 0));
  }

  /** Every override in force (or due), oldest first. */
  active(): InForce[] {
    const out: InForce[] = [];
    for (const key of this.ev.targets.keys()) {
      const a = this.target(key).active;
      if (a) out.push(a);
    }
    return out.sort((a, b) => (a.since < b.since ? -1 : a.since > b.since ? 1 : 0));
  }

  /** The baseline a target returns to when its skip or flag ends (null: nothing was there). */
  baseline(key: string): unknown {
    const s = this.ev.targets.get(key);
    return s?.baseline ?? null;
  }

  /** Requests awaiting approval, not yet past their window. */
  pending(): RequestState[] {
    return [...this.ev.requests.values()].filter(
      (q) => q.status === "pending" && !(q.record.expiresAt && Date.parse(q.record.expiresAt) <= this.now),
    );
  }

  /** Requests whose window passed without enough approvals, not yet closed by `optout expire`. */
  stalePending(): RequestState[] {
    return [...this.ev.requests.values()].filter(
      (q) => q.status === "pending" && !!q.record.expiresAt && Date.parse(q.record.expiresAt) <= this.now,
    );
  }

  /**
   * Operations whose outcome is not known: still running (no result yet), or a skip or flag the
   * forge did not confirm. A rollout or failover with an unknown outcome takes its place among
   * the overrides in force instead (outcome `unknown`): it may be live, so it can be reverted.
   */
  unsettled(): Operation[] {
    return [...this.ev.operations.values()].filter((o) => {
      if (o.status === "running") return true;
      if (o.status !== "unknown") return false;
      const s = this.ev.targets.get(o.key);
      if (o.kind !== "override") {
        // A later revert or expire of the same override has answered what this one left open.
        const of = o.intent.links.reverts;
        return !s?.ended.some(
          (e) =>
            e.override.id === of &&
            (e.how === "reverted" || e.how === "expired") &&
            e.by !== null &&
            e.by !== o.intent.id,
        );
      }
      const placed = s?.active?.id === o.intent.id || s?.stack.some((x) => x.id === o.intent.id);
      const ended = s?.ended.some((e) => e.override.id === o.intent.id);
      return !placed && !ended;
    });
  }

  /** Whether the stage is waived for this ref/commit: the skip in force, if any. */
  skipFor(stage: string, ref: string | undefined, sha: string | undefined): InForce | undefined {
    let best: InForce | undefined;
    for (const s of this.ev.targets.values()) {
      if (s.op !== "skip" || s.target.stage !== stage) continue;
      const t = s.target;
      const matches = t.sha
        ? !!sha && (sha.startsWith(t.sha) || t.sha.startsWith(sha))
        : !!ref && t.ref === ref;
      if (!matches) continue;
      const a = this.target(s.key).active;
      // A skip is in force only once applied and while its TTL runs.
      if (!a || a.due || a.outcome !== "applied") continue;
      if (!best || a.since > best.since) best = a;
    }
    return best;
  }

  /**
   * The value optout has in force for a flag (undefined: not overridden). `due` also takes one
   * whose TTL has passed but that the forge still holds until `optout expire` (what `flag unset`
   * may end); readers of the value leave it out.
   */
  flag(
    flag: string,
    env: string | null,
    o: { due?: boolean } = {},
  ): { value: string | null; override: InForce } | undefined {
    const a = this.target(targetKey("flag", { flag, env })).active;
    if (!a || (a.due && !o.due) || a.outcome !== "applied") return undefined;
    return { value: flagValue(a.after), override: a };
  }
}

// ---- policy checks on values ----

function valueProblem(policy: PolicyView, op: OverrideType, r: LedgerRecord): string | undefined {
  const t = r.target;
  const params = r.params ?? {};
  for (const [k, v] of Object.entries(params)) {
    if (typeof v === "string" && hasControl(v)) return `parameter ${k} holds a control character`;
  }
  switch (op) {
    case "skip": {
      const stage = policy.stages[t.stage ?? ""];
      if (!t.ref && !t.sha) return "a skip names neither a ref nor a commit";
      if (stage && r.mechanism !== stage.mechanism) {
        return `stage ${t.stage} is skipped by ${stage.mechanism}, not ${r.mechanism}`;
      }
      return undefined;
    }
    case "flag": {
      const flag = policy.flags[t.flag ?? ""];
      if (!flag) return undefined;
      const env = t.env ?? null;
      if (flag.environments ? !env || !flag.environments.includes(env) : env !== null) {
        return `flag ${t.flag} has no environment ${JSON.stringify(env)}`;
      }
      const value = flagValue(r.after) ?? (typeof params.value === "string" ? params.value : null);
      if (value === null) return "a flag override sets no value";
      if (hasControl(value)) return "the flag's value holds a control character";
      if (flag.values && !flag.values.includes(value))
        return `${JSON.stringify(value)} is not a value of flag ${t.flag}`;
      if (flag.pattern && !flag.pattern.test(value))
        return `${JSON.stringify(value)} does not match flag ${t.flag}'s pattern`;
      return undefined;
    }
    case "rollout": {
      const p = policy.rollout;
      if (!p) return undefined;
      if (!t.env || !p.environments.includes(t.env))
        return `rollout has no environment ${JSON.stringify(t.env)}`;
      if (!t.artifact || !p.artifactPattern.test(t.artifact))
        return "the artifact does not match the policy's pattern";
      const skip = typeof params.skip === "string" && params.skip ? params.skip.split(",") : [];
      const bad = skip.find((s) => !p.skippable.includes(s));
      return bad ? `stage ${bad} is not skippable in a rollout` : undefined;
    }
    case "failover": {
      const p = policy.failover;
      if (!p) return undefined;
      if (!t.target || !p.targets.includes(t.target))
        return `${JSON.stringify(t.target)} is not a failover target`;
      const env = t.env ?? null;
      // Without a list, any environment may be named (the forge scopes the variable to it).
      if (p.environments && (!env || !p.environments.includes(env))) {
        return `failover has no environment ${JSON.stringify(env)}`;
      }
      return undefined;
    }
  }
}

function describeTarget(op: string, t: Target): string {
  switch (op) {
    case "skip":
      return `stage ${t.stage}`;
    case "flag":
      return `flag ${t.flag}${t.env ? ` in ${t.env}` : ""}`;
    case "rollout":
      return `rollouts${t.env ? ` to ${t.env}` : ""}`;
    default:
      return `failover${t.env ? ` of ${t.env}` : ""}`;
  }
}

function verb(op: OverrideType): string {
  return op === "skip" ? "skip" : op === "flag" ? "set" : op === "rollout" ? "start" : "start";
}

function hours(ms: number): string {
  const h = ms / 3_600_000;
  return Number.isInteger(h) ? `${h}h` : `${Math.round(ms / 60_000)}m`;
}

// ---- the index: nominations for fast readers ----

/** An index entry for an override: where its record is, and what it claims (readers verify it). */
export function entryOf(o: Override, baseline: unknown): IndexEntry {
  return {
    id: o.id,
    type: o.record.type,
    op: o.op,
    target: o.target,
    mechanism: o.mechanism,
    expiresAt: o.expiresAt,
    record: recordPathOf(o.id),
    before: o.op === "skip" || o.op === "flag" ? baseline : o.before,
    after: o.after,
    actor: o.login,
    time: o.since,
  };
}

function recordEntry(r: LedgerRecord): IndexEntry {
  return {
    id: r.id,
    type: r.type,
    op: r.op,
    target: r.target,
    mechanism: r.mechanism,
    expiresAt: r.expiresAt,
    record: recordPathOf(r.id),
    actor: r.actor.login,
    time: r.time,
  };
}

/**
 * `state/active.json` as of the evaluator's last record: the overrides it holds active (also those
 * past their TTL that a forge still holds), pending requests and unsettled operations. Writers
 * derive it from the records that count, never from the previous index, so a forged entry does not
 * outlive the next honest record; readers treat it as nominations to verify.
 */
export function indexOf(ev: LedgerEvaluator): ActiveIndex {
  const active: IndexEntry[] = [];
  for (const s of ev.targets.values()) if (s.active) active.push(entryOf(s.active, s.baseline ?? null));
  const pending = [...ev.requests.values()]
    .filter((q) => q.status === "pending")
    .map((q) => ({
      ...recordEntry(q.record),
      approvals: q.approvals.map((a) => ({ login: a.login, record: recordPathOf(a.record.id) })),
    }));
  const inflight = [...ev.operations.values()]
    .filter((o) => o.status === "running" || o.status === "unknown")
    .map((o) => recordEntry(o.intent));
  return { v: 1, seq: ev.tail?.seq ?? 0, active, pending, inflight };
}

/** The index-shaped state of the overrides in force, for forge helpers that still read one. */
export function legacyState(inForce: readonly InForce[]): { seq: number; index: ActiveIndex } {
  return {
    seq: 0,
    index: { v: 1, seq: 0, active: inForce.map((o) => entryOf(o, o.baseline)), pending: [], inflight: [] },
  };
}
