/**
 * The one override flow, for every override type and provider:
 * authorize → validate → plan → (dry-run stops) → (approval needed: request, exit 4) → confirm →
 * carry out (intent → apply → result). Ending an override (revert, expire, flag unset) is the same
 * carry-out with a restore. Refusals by policy are recorded (`deny`) so reviewers see attempts.
 */
import {
  FailedError,
  InterruptedError,
  type NotAllowedError,
  OptoutError,
  PartialError,
  PendingError,
  UnknownOutcomeError,
  UsageError,
} from "../errors.js";
import { matchingPrincipal, notAllowed, validateInputs } from "./authorize.js";
import type { Interrupt } from "./interrupt.js";
import { approvalsFor, type EntryRules, principalToString, userNames } from "./policy.js";
import type {
  AppendOutcome,
  LedgerPort,
  NotifyEventName,
  OverrideSpec,
  Plan,
  ProviderPort,
  RestoreSpec,
  TargetView,
} from "./ports.js";
import type { Actor, LedgerRecord, OverrideType, RecordDraft, Target } from "./record.js";
import { type InForce, type LedgerView, targetKey } from "./state.js";

export interface FlowReporter {
  plan(lines: string[]): void;
  step(text: string): void;
  warn(text: string): void;
  /** What the flow is waiting on now ("running the rollout command"): a spinner, or one line. */
  progress?(text: string): void;
}

export interface FlowDeps {
  provider: ProviderPort;
  ledger: LedgerPort;
  repo: string;
  now: () => Date;
  newId: () => string;
  dryRun: boolean;
  /**
   * Resolves true to go ahead; the caller prompts only when interactive and not --yes. With
   * `mustAsk` (the change replaces someone else's override) a non-interactive run without --yes
   * is refused rather than taken as a yes.
   */
  confirm: (plan: Plan, o?: { mustAsk?: string }) => Promise<boolean>;
  report: FlowReporter;
  /** Ctrl-C: aborts the step in a critical section, which is then recorded (exit 130). */
  interrupt?: Interrupt;
  /** Announces an event; returns the per-channel results (never throws). */
  announce?: (event: NotifyEventName, record: LedgerRecord | RecordDraft) => Promise<unknown[]>;
}

export interface OverrideInput {
  op: OverrideType;
  rules: EntryRules;
  /** "skip lint", "set flag DEPLOY_FREEZE_BYPASS": used in messages. */
  label: string;
  target: Target;
  mechanism: string;
  params?: Record<string, string | null>;
  reason: string | undefined;
  ticket: string | undefined;
  ttlMs: number | null | undefined;
  /** The environment approvals.environments is matched against. */
  env?: string | null;
}

export type FlowStatus = "applied" | "failed" | "unknown" | "partial" | "pending" | "dry-run";

export interface FlowResult {
  id: string;
  type: string;
  status: FlowStatus;
  record: LedgerRecord | RecordDraft;
  result?: LedgerRecord;
  plan: Plan;
  revert: string | null;
  expiresAt: string | null;
  actor: Actor;
  notifications: unknown[];
  /** Pushes it took to land the (first) record: >1 when other writers appended meanwhile. */
  attempts?: number;
  /** The override this one replaced (skips, flags) or superseded (rollouts, failovers). */
  replaces?: string;
}

function draftBase(
  deps: FlowDeps,
  actor: Actor,
  fields: Partial<RecordDraft> & Pick<RecordDraft, "type" | "outcome">,
): RecordDraft {
  return {
    id: deps.newId(),
    op: null,
    actor,
    repo: deps.repo,
    target: {},
    reason: null,
    ticket: null,
    mechanism: null,
    before: null,
    after: null,
    expiresAt: null,
    links: {},
    ...fields,
  };
}

async function land(deps: FlowDeps, draft: RecordDraft, what: string): Promise<AppendOutcome> {
  const r = await deps.ledger.append(() => draft);
  if (r.kind === "queued") {
    deps.report.warn(`${what} could not be pushed (${r.reason}); it is kept locally — run \`optout sync\``);
  }
  return r;
}

async function announce(deps: FlowDeps, event: NotifyEventName, record: LedgerRecord | RecordDraft) {
  return deps.announce ? deps.announce(event, record) : [];
}

/**
 * Runs a provider step that changes the world. Ctrl-C aborts it (the provider stops its child
 * or request); the caller still records the outcome before exiting 130.
 */
async function guardedStep<T>(
  deps: FlowDeps,
  label: string,
  fn: (signal?: AbortSignal) => Promise<T>,
): Promise<T> {
  const signal = deps.interrupt?.signal;
  if (!signal) return fn(undefined);
  // Ctrl-C came while the intent was being pushed: the step is not begun at all.
  if (signal.aborted) {
    throw new InterruptedError(`interrupted (Ctrl-C) before ${label}; it was not started`, {
      data: { started: false },
    });
  }
  const interrupted = new Promise<never>((_, reject) => {
    signal.addEventListener(
      "abort",
      () => reject(new InterruptedError(`interrupted (Ctrl-C) while ${label}; it may be partly done`)),
      { once: true },
    );
  });
  return Promise.race([fn(signal), interrupted]);
}

/** The error, now carrying (for --json) what was recorded about the operation it ended. */
function withOutcome(e: OptoutError, data: Record<string, unknown>): OptoutError {
  Object.defineProperty(e, "data", { value: data, enumerable: true, configurable: true });
  return e;
}

function critical<T>(deps: FlowDeps, fn: () => Promise<T>): Promise<T> {
  return deps.interrupt ? deps.interrupt.critical(fn) : fn();
}

function recording<T>(deps: FlowDeps, fn: () => Promise<T>): Promise<T> {
  return deps.interrupt ? deps.interrupt.recording(fn) : fn();
}

/** Records a policy refusal (`deny`), announces it, then throws it. Dry runs write nothing. */
export async function deny(
  deps: FlowDeps,
  actor: Actor,
  about: {
    op: OverrideType | null;
    target: Target;
    reason?: string | null;
    ticket?: string | null;
    mechanism?: string | null;
    links?: RecordDraft["links"];
  },
  error: NotAllowedError,
): Promise<never> {
  if (!deps.dryRun) {
    const d = draftBase(deps, actor, {
      type: "deny",
      op: about.op,
      target: about.target,
      reason: about.reason ?? null,
      ticket: about.ticket ?? null,
      mechanism: about.mechanism ?? null,
      links: about.links ?? {},
      outcome: "denied",
      error: error.message,
    });
    const r = await land(deps, d, "the deny record");
    await announce(deps, "denied", r.record);
  }
  throw error;
}

export { approvalsFor };

/** What a provider plans against: the override in force on the target, its baseline, and the rest. */
export function targetView(view: LedgerView, op: OverrideType, target: Target): TargetView {
  const key = targetKey(op, target);
  const active = view.target(key).active;
  return { ...(active ? { active } : {}), baseline: view.baseline(key), inForce: view.active() };
}

/** "replaces 01J… by dana, until 2026-…" for the plan, when the target is overridden already. */
function replacing(op: OverrideType, active: InForce | undefined): string | undefined {
  if (!active) return undefined;
  const until = active.expiresAt ? `until ${active.expiresAt}` : "until reverted";
  const verb = op === "skip" || op === "flag" ? "replaces" : "supersedes";
  return `${verb} ${active.id} by ${active.login}, ${until}`;
}

export async function runOverride(deps: FlowDeps, input: OverrideInput): Promise<FlowResult> {
  const actor = await deps.provider.identity();
  const about = {
    op: input.op,
    target: input.target,
    reason: input.reason ?? null,
    ticket: input.ticket ?? null,
    mechanism: input.mechanism,
  };
  if (!(await matchingPrincipal(deps.provider, actor, input.rules.allow))) {
    await deny(deps, actor, about, notAllowed(actor, input.label, input.rules.allow));
  }
  const { ttlMs } = validateInputs(input.rules, input, input.label);
  // Fetching the audit branch can take a while (a slow or unreachable remote): say so meanwhile.
  deps.report.progress?.("reading what is in force from the audit branch");
  const spec: OverrideSpec = {
    op: input.op,
    target: input.target,
    mechanism: input.mechanism,
    params: input.params ?? {},
    expiresAt: ttlMs === null ? null : new Date(deps.now().getTime() + ttlMs).toISOString(),
  };
  const view = await deps.ledger.current();
  const tv = targetView(view, input.op, input.target);
  const plan = await deps.provider.plan(spec, tv);
  const replaces = replacing(input.op, tv.active);
  if (replaces) plan.steps.unshift(replaces);
  deps.report.plan(plan.steps);
  const approvals = approvalsFor(input.rules, input.env);
  const fields = { reason: input.reason!.trim(), ticket: input.ticket?.trim() || null };

  if (approvals) {
    const request = draftBase(deps, actor, {
      type: "request",
      op: input.op,
      target: input.target,
      mechanism: input.mechanism,
      before: plan.before,
      after: plan.after,
      ...fields,
      // The request itself expires; the override's TTL starts when it is approved.
      expiresAt: new Date(deps.now().getTime() + approvals.timeoutMs).toISOString(),
      ttlMs,
      outcome: "pending",
      ...(Object.keys(spec.params).length ? { params: spec.params } : {}),
    });
    if (deps.dryRun) {
      return {
        id: request.id,
        type: "request",
        status: "dry-run",
        record: request,
        plan,
        revert: null,
        expiresAt: request.expiresAt,
        actor,
        notifications: [],
      };
    }
    // A request is only worth making if it can be approved: never kept for later.
    const landed = await deps.ledger.append(() => request, { keep: false });
    if (landed.kind === "queued") throw new FailedError("could not record the request; nothing was changed");
    await announce(deps, "pending", landed.record);
    // The requester cannot approve their own request: never name them as an approver.
    const others = approvals.from.filter(
      (p) => !(p.kind === "user" && userNames(p, actor.login, actor.provider)),
    );
    const groups = others.some((p) => p.kind !== "user");
    const who = `${others.map(principalToString).join(", ") || "nobody else"}${groups ? ` (other than ${actor.login})` : ""}`;
    throw new PendingError(`request ${request.id} awaits ${approvals.required} approval(s) from ${who}`, {
      hint: `a second person approves with: optout approve ${request.id}`,
      data: {
        id: request.id,
        type: "request",
        status: "pending",
        record: landed.record,
        approve: `optout approve ${request.id}`,
      },
    });
  }
  const first = overrideDraft(deps, actor, spec, plan, {
    ...fields,
    ...(tv.active ? { replaces: tv.active.id } : {}),
  });
  if (deps.dryRun) {
    return {
      id: first.id,
      type: input.op,
      status: "dry-run",
      record: first,
      plan,
      revert: null,
      expiresAt: spec.expiresAt,
      actor,
      notifications: [],
      ...(tv.active ? { replaces: tv.active.id } : {}),
    };
  }
  // Replacing a colleague's waiver is said in the plan and asked, never done silently. (A rollout
  // or failover superseding the last one is what they are for: the plan says so, no more.)
  const mustAsk = input.op === "skip" && tv.active && tv.active.login !== actor.login ? replaces : undefined;
  if (!(await deps.confirm(plan, mustAsk ? { mustAsk: `${input.label} ${mustAsk}` } : {}))) {
    throw new UsageError("cancelled; nothing was changed");
  }
  return execute(deps, actor, spec, plan, first, { label: input.label });
}

function overrideDraft(
  deps: FlowDeps,
  actor: Actor,
  spec: OverrideSpec,
  plan: Plan,
  fields: {
    reason: string;
    ticket: string | null;
    replaces?: string;
    request?: string;
    requester?: string;
    approvers?: string[];
  },
): RecordDraft {
  const links: RecordDraft["links"] = {
    ...(fields.request ? { request: fields.request } : {}),
    ...(fields.replaces ? { replaces: fields.replaces } : {}),
  };
  return draftBase(deps, actor, {
    type: spec.op,
    op: spec.op,
    target: spec.target,
    reason: fields.reason,
    ticket: fields.ticket,
    mechanism: spec.mechanism,
    before: plan.before,
    after: plan.after,
    expiresAt: spec.expiresAt,
    links,
    outcome: plan.external ? "intent" : "applied",
    ...(Object.keys(spec.params).length ? { params: spec.params } : {}),
    ...(fields.requester ? { requester: fields.requester } : {}),
    ...(fields.approvers ? { approvers: fields.approvers } : {}),
  });
}

/** Applies a planned override (a request's last approval lands here too). */
export async function execute(
  deps: FlowDeps,
  actor: Actor,
  spec: OverrideSpec,
  plan: Plan,
  first: RecordDraft,
  o: { label: string },
): Promise<FlowResult> {
  const out = await carryOut(deps, actor, first, plan, {
    label: o.label,
    event: "applied",
    act: (record, signal) => deps.provider.apply(spec, plan, record, signal),
  });
  return {
    ...out,
    type: spec.op,
    revert: `optout revert ${first.id}`,
    expiresAt: spec.expiresAt,
    ...(first.links.replaces ? { replaces: first.links.replaces } : {}),
  };
}

interface CarryOut {
  label: string;
  event: NotifyEventName;
  act: (record: LedgerRecord, signal?: AbortSignal) => Promise<{ after: unknown; detail?: string }>;
}

/**
 * The one carry-out step, for overrides and their ends alike. A ledger-only change is its record.
 * Anything else is write-ahead: the intent lands (never kept for later: an intent pushed by
 * `sync` long after would describe a change nobody made), the provider acts, and a result records
 * what happened — `unknown` when the forge did not say or Ctrl-C cut it short. From the intent
 * on, Ctrl-C is recorded rather than obeyed at once.
 */
async function carryOut(
  deps: FlowDeps,
  actor: Actor,
  first: RecordDraft,
  plan: Plan,
  c: CarryOut,
): Promise<Omit<FlowResult, "type" | "revert" | "expiresAt">> {
  const base = { id: first.id, plan, actor };
  if (!plan.external) {
    const landed = await land(deps, first, "the record");
    if (landed.kind === "queued") {
      throw new PartialError(`${c.label} (${first.id}) is recorded locally but not pushed yet`, {
        hint: "run `optout sync` when the remote is reachable; until then pipelines do not see it",
        data: { id: first.id, type: first.type, status: "queued", record: landed.record },
      });
    }
    const record = landed.record;
    deps.report.step(`recorded ${record.type} ${record.id} on the audit branch`);
    const notifications = await announce(deps, c.event, record);
    const result = await recordDelivery(deps, actor, record, notifications);
    return {
      ...base,
      status: "applied",
      record,
      ...(result ? { result } : {}),
      notifications,
      ...(landed.attempts !== undefined ? { attempts: landed.attempts } : {}),
    };
  }
  return critical(deps, async () => {
    // Never kept for later: an intent `optout sync` pushed long after would describe a change
    // nobody made.
    const landed = await deps.ledger.append(() => first, { keep: false });
    if (landed.kind === "queued") {
      throw new FailedError(
        `${c.label} was not started: its intent record could not be pushed (${landed.reason})`,
        {
          hint: "nothing was changed and nothing is kept for `optout sync`; run the same command again once the remote is reachable",
        },
      );
    }
    const record = landed.record;
    deps.report.step(`recorded intent ${record.id}`);
    let outcome: "applied" | "failed" | "unknown" = "applied";
    let after: unknown = plan.after;
    let failure: OptoutError | undefined;
    try {
      const applied = await guardedStep(deps, c.label, (signal) => c.act(record, signal));
      after = applied.after;
      deps.report.step(applied.detail ?? "applied");
    } catch (e) {
      // `failed` only when the forge or command said so (or nothing was begun); whatever we cannot
      // be sure of is unknown.
      const notStarted = e instanceof InterruptedError && e.data?.started === false;
      const confirmed =
        notStarted ||
        (e instanceof OptoutError && !(e instanceof UnknownOutcomeError || e instanceof InterruptedError));
      outcome = confirmed ? "failed" : "unknown";
      failure =
        e instanceof OptoutError
          ? e
          : new UnknownOutcomeError(`${c.label}: the outcome is unknown (${(e as Error).message})`, {
              hint: "recorded as unknown; `optout sync` reads back what it can and settles it",
              cause: e,
            });
    }
    const notifications = await announce(deps, outcome === "applied" ? c.event : "failed", record);
    // The result lands even if Ctrl-C comes now (the command may have died of it before optout
    // heard it): that record is what says what happened.
    const result = await recording(deps, () =>
      land(
        deps,
        draftBase(deps, actor, {
          type: "result",
          op: first.op,
          target: first.target,
          mechanism: first.mechanism,
          before: plan.before,
          after: outcome === "applied" ? after : outcome === "failed" ? plan.before : null,
          expiresAt: first.expiresAt,
          links: { intent: record.id, ...(first.links.reverts ? { reverts: first.links.reverts } : {}) },
          outcome,
          ...(failure ? { error: failure.message } : {}),
          ...(notifications.length ? { notifications } : {}),
        }),
        "the result record",
      ),
    );
    if (failure && deps.interrupt?.interrupted && !(failure instanceof InterruptedError)) {
      failure = new InterruptedError(`interrupted (Ctrl-C) while ${c.label}: ${failure.message}`, {
        ...(failure.hint ? { hint: failure.hint } : {}),
      });
    }
    if (failure) {
      // With --json the error carries what was recorded, like a success does: the id `revert`
      // and `status` take, the intent, and the result that says how it ended.
      throw withOutcome(failure, {
        id: record.id,
        type: first.type,
        status: outcome,
        record,
        ...(result.kind === "landed" ? { result: result.record } : {}),
      });
    }
    if (result.kind === "queued") {
      throw new PartialError(`${c.label} was applied, but its result record is kept locally`, {
        hint: "run `optout sync` to push it",
        data: { id: record.id, type: first.type, status: "applied", record },
      });
    }
    return {
      ...base,
      status: "applied",
      record,
      result: result.record,
      notifications,
      ...(landed.attempts !== undefined ? { attempts: landed.attempts } : {}),
    };
  });
}

/**
 * A ledger-only change is one record, written before it is announced; when the policy has
 * channels, a `result` record then keeps how each delivery went. It changes nothing in force.
 */
async function recordDelivery(
  deps: FlowDeps,
  actor: Actor,
  record: LedgerRecord,
  notifications: unknown[],
): Promise<LedgerRecord | undefined> {
  if (notifications.length === 0) return undefined;
  const landed = await land(
    deps,
    draftBase(deps, actor, {
      type: "result",
      op: record.op,
      target: record.target,
      mechanism: record.mechanism,
      before: record.before,
      after: record.after,
      expiresAt: record.expiresAt,
      links: { intent: record.id, ...(record.links.reverts ? { reverts: record.links.reverts } : {}) },
      outcome: "applied",
      notifications,
    }),
    "the delivery record",
  );
  return landed.kind === "landed" ? landed.record : undefined;
}

export interface RestoreInput {
  kind: "revert" | "expire";
  /** The override to end (its id as `optout status` shows it). */
  id: string;
  reason: string | null;
  /** The incident or change ticket, recorded with the reason (`flag unset --ticket`). */
  ticket?: string | null;
  /** "revert", "unset flag X": used in messages. */
  label?: string;
}

/** The override `id` names, in force on its target; a usage error saying why not otherwise. */
export function overrideInForce(view: LedgerView, id: string, expiring = false): InForce {
  const o = view.ev.overrides.get(id);
  const s = o ? view.ev.targets.get(o.key) : undefined;
  if (!o || !s) {
    throw new UsageError(`no override with id ${id}`, {
      hint: "see `optout status` for what is in force; `optout log` shows ended ones",
    });
  }
  const top = view.target(o.key).active;
  if (top?.id === id) return top;
  // `expire` also ends ledger-only overrides past their TTL, so the end is recorded and announced.
  const lapsed = expiring ? view.expired().find((x) => x.id === id) : undefined;
  if (lapsed) return lapsed;
  if (s.stack.some((x) => x.id === id) && s.active) {
    throw new UsageError(
      `${id} was superseded by ${s.active.id} (${s.active.login}); revert that one first`,
      {
        hint: `reverting ${s.active.id} makes ${id} current again`,
      },
    );
  }
  const ended = s.ended.find((e) => e.override.id === id);
  throw new UsageError(
    ended
      ? `${id} is no longer in force: ${ended.how}${ended.by ? ` by ${ended.by}` : ""} at ${ended.at}`
      : `${id} is not in force`,
    { hint: "see `optout status` for what is in force" },
  );
}

/** Ends one override in force by restoring what was there before optout (revert, expire, flag unset). */
export async function runRestore(
  deps: FlowDeps,
  input: RestoreInput,
  authorize: (actor: Actor, o: InForce) => Promise<void>,
): Promise<FlowResult> {
  const actor = await deps.provider.identity();
  deps.report.progress?.("reading what is in force from the audit branch");
  const view = await deps.ledger.current();
  const o = overrideInForce(view, input.id, input.kind === "expire");
  await authorize(actor, o);
  const spec: RestoreSpec = {
    kind: input.kind,
    op: o.op,
    target: o.target,
    mechanism: o.mechanism,
    overrideId: o.id,
    original: o.record,
    current: o.after,
    restore: o.op === "skip" || o.op === "flag" ? view.baseline(o.key) : o.before,
    inForce: view.active(),
  };
  const plan = await deps.provider.planRestore(spec);
  deps.report.plan(plan.steps);
  const draft = draftBase(deps, actor, {
    type: input.kind,
    op: o.op,
    target: o.target,
    reason: input.reason,
    ticket: input.ticket?.trim() || null,
    mechanism: o.mechanism,
    before: plan.before,
    after: plan.after,
    links: { reverts: o.id },
    outcome: plan.external ? "intent" : "applied",
  });
  const base = { type: input.kind, revert: null, expiresAt: null };
  if (deps.dryRun)
    return { ...base, id: draft.id, plan, actor, status: "dry-run", record: draft, notifications: [] };
  if (!(await deps.confirm(plan))) throw new UsageError("cancelled; nothing was changed");
  const out = await carryOut(deps, actor, draft, plan, {
    label: input.label ?? `${input.kind} of ${o.id}`,
    event: input.kind === "revert" ? "reverted" : "expired",
    act: async (record, signal) => deps.provider.restore(spec, plan, record, signal),
  });
  return { ...base, ...out };
}
