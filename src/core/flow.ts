/**
 * The one override flow, for every override type and provider:
 * authorize → validate → plan → (dry-run stops) → (approval needed: request, exit 4) → confirm →
 * intent → apply → result. Refusals by policy are recorded (`deny`) so reviewers see attempts.
 */
import {
  FailedError,
  InterruptedError,
  type NotAllowedError,
  OptoutError,
  PartialError,
  PendingError,
  UsageError,
} from "../errors.js";
import { matchingPrincipal, notAllowed, validateInputs } from "./authorize.js";
import type { Interrupt } from "./interrupt.js";
import type { Approvals, EntryRules } from "./policy.js";
import { principalToString } from "./policy.js";
import type {
  AppendOutcome,
  LedgerPort,
  NotifyEventName,
  OverrideSpec,
  Plan,
  ProviderPort,
} from "./ports.js";
import type { Actor, IndexEntry, LedgerRecord, OverrideType, RecordDraft, Target } from "./record.js";

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
  /** Resolves true to go ahead; the caller prompts only when interactive and not --yes. */
  confirm: (plan: Plan) => Promise<boolean>;
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

export type FlowStatus = "applied" | "failed" | "partial" | "pending" | "dry-run";

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
    // An intent that did not reach the remote is not carried out, so it must not reach it later
    // either: `optout sync` would push an operation that never ran. The caller says so.
    if (draft.outcome === "intent") await deps.ledger.discard?.(draft.id);
    else
      deps.report.warn(`${what} could not be pushed (${r.reason}); it is kept locally — run \`optout sync\``);
  }
  return r;
}

/** An intent the remote never got: nothing ran, and nothing waits for `optout sync`. */
function intentNotPushed(label: string, reason: string): FailedError {
  return new FailedError(`${label} was not started: its intent record could not be pushed (${reason})`, {
    hint: "nothing was changed and nothing is kept for `optout sync`; run the same command again once the remote is reachable",
  });
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
  if (signal.aborted) throw new InterruptedError(`interrupted (Ctrl-C) before ${label}; it was not started`);
  const interrupted = new Promise<never>((_, reject) => {
    signal.addEventListener(
      "abort",
      () => reject(new InterruptedError(`interrupted (Ctrl-C) while ${label}; it may be partly done`)),
      { once: true },
    );
  });
  return Promise.race([fn(signal), interrupted]);
}

function critical<T>(deps: FlowDeps, fn: () => Promise<T>): Promise<T> {
  return deps.interrupt ? deps.interrupt.critical(fn) : fn();
}

/**
 * A ledger-only override is one record, written before it is announced; when the policy has
 * channels, a `result` record then keeps how each delivery went, as it does for forge overrides.
 * It changes nothing in force (its intent is not in flight). Kept locally if it cannot be pushed.
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

/** Whether this override needs a second person, given the environment it targets. */
export function approvalsFor(rules: EntryRules, env: string | null | undefined): Approvals | undefined {
  const a = rules.approvals;
  if (!a || a.required < 1) return undefined;
  if (a.environments && !(env && a.environments.includes(env))) return undefined;
  return a;
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
  const spec: OverrideSpec = {
    op: input.op,
    target: input.target,
    mechanism: input.mechanism,
    params: input.params ?? {},
    expiresAt: ttlMs === null ? null : new Date(deps.now().getTime() + ttlMs).toISOString(),
  };
  const plan = await deps.provider.plan(spec, await deps.ledger.current());
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
    const landed = await land(deps, request, "the request");
    if (landed.kind === "queued") throw new FailedError("could not record the request; nothing was changed");
    await announce(deps, "pending", landed.record);
    // The requester cannot approve their own request: never name them as an approver.
    const others = approvals.from.filter((p) => !(p.kind === "user" && p.login === actor.login));
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
  if (deps.dryRun) {
    const preview = draftBase(deps, actor, {
      type: input.op,
      op: input.op,
      target: input.target,
      mechanism: input.mechanism,
      before: plan.before,
      after: plan.after,
      expiresAt: spec.expiresAt,
      outcome: plan.external ? "intent" : "applied",
      ...fields,
    });
    return {
      id: preview.id,
      type: input.op,
      status: "dry-run",
      record: preview,
      plan,
      revert: null,
      expiresAt: spec.expiresAt,
      actor,
      notifications: [],
    };
  }
  if (!(await deps.confirm(plan))) throw new UsageError("cancelled; nothing was changed");
  return execute(deps, actor, spec, plan, { ...fields, label: input.label });
}

/**
 * Applies a planned override: the record lands first (write-ahead), then the provider acts, then
 * the result is recorded. Ledger-only overrides (mechanism guard, flags on git) are one record.
 */
export async function execute(
  deps: FlowDeps,
  actor: Actor,
  spec: OverrideSpec,
  plan: Plan,
  fields: {
    reason: string;
    ticket: string | null;
    label: string;
    links?: RecordDraft["links"];
    requester?: string;
    approvers?: string[];
  },
): Promise<FlowResult> {
  const first = draftBase(deps, actor, {
    type: spec.op,
    op: spec.op,
    target: spec.target,
    reason: fields.reason,
    ticket: fields.ticket,
    mechanism: spec.mechanism,
    before: plan.before,
    after: plan.after,
    expiresAt: spec.expiresAt,
    links: fields.links ?? {},
    outcome: plan.external ? "intent" : "applied",
    ...(Object.keys(spec.params).length ? { params: spec.params } : {}),
    ...(fields.requester ? { requester: fields.requester } : {}),
    ...(fields.approvers ? { approvers: fields.approvers } : {}),
  });
  // From the intent on, Ctrl-C is recorded rather than obeyed at once.
  return critical(deps, () => executeRecorded(deps, actor, spec, plan, fields, first));
}

async function executeRecorded(
  deps: FlowDeps,
  actor: Actor,
  spec: OverrideSpec,
  plan: Plan,
  fields: { label: string },
  first: RecordDraft,
): Promise<FlowResult> {
  const landed = await land(deps, first, "the record");
  const base = {
    id: first.id,
    type: spec.op,
    plan,
    revert: `optout revert ${first.id}`,
    expiresAt: spec.expiresAt,
    actor,
  };
  if (landed.kind === "queued") {
    if (plan.external) throw intentNotPushed(fields.label, landed.reason);
    throw new PartialError(`${fields.label} (${first.id}) is recorded locally but not pushed yet`, {
      hint: "run `optout sync` when the remote is reachable; until then pipelines do not see it",
    });
  }
  const record = landed.record;
  if (landed.attempts !== undefined) Object.assign(base, { attempts: landed.attempts });
  if (!plan.external) {
    deps.report.step(`recorded ${spec.op} ${record.id} on the audit branch`);
    const notifications = await announce(deps, "applied", record);
    const result = await recordDelivery(deps, actor, record, notifications);
    return { ...base, status: "applied", record, ...(result ? { result } : {}), notifications };
  }
  deps.report.step(`recorded intent ${record.id}`);
  let outcome: "applied" | "failed" = "applied";
  let after: unknown = plan.after;
  let failure: OptoutError | undefined;
  try {
    const applied = await guardedStep(deps, fields.label, (signal) =>
      deps.provider.apply(spec, plan, record, signal),
    );
    after = applied.after;
    deps.report.step(applied.detail ?? "applied");
  } catch (e) {
    outcome = "failed";
    failure = e instanceof OptoutError ? e : new FailedError(`applying failed: ${(e as Error).message}`);
  }
  const notifications = await announce(deps, outcome === "applied" ? "applied" : "failed", record);
  const result = await land(
    deps,
    draftBase(deps, actor, {
      type: "result",
      op: spec.op,
      target: spec.target,
      mechanism: spec.mechanism,
      before: plan.before,
      after: outcome === "applied" ? after : plan.before,
      expiresAt: spec.expiresAt,
      links: { intent: record.id },
      outcome,
      ...(failure ? { error: failure.message } : {}),
      ...(notifications.length ? { notifications } : {}),
    }),
    "the result record",
  );
  if (failure) throw failure;
  if (result.kind === "queued") {
    throw new PartialError(`${fields.label} was applied, but its result record is kept locally`, {
      hint: "run `optout sync` to push it",
    });
  }
  return { ...base, status: "applied", record, result: result.record, notifications };
}

export interface RestoreInput {
  kind: "revert" | "expire";
  entry: IndexEntry;
  reason: string | null;
}

/** Revert or expire one active override by restoring its recorded `before`. */
export async function runRestore(
  deps: FlowDeps,
  input: RestoreInput,
  authorize: (actor: Actor, original: LedgerRecord) => Promise<void>,
): Promise<FlowResult> {
  const actor = await deps.provider.identity();
  const original = await deps.ledger.record(input.entry);
  await authorize(actor, original);
  const plan = await deps.provider.planRestore(input.entry, original, await deps.ledger.current());
  deps.report.plan(plan.steps);
  const op = (input.entry.op ?? input.entry.type) as OverrideType;
  const draft = draftBase(deps, actor, {
    type: input.kind,
    op,
    target: input.entry.target,
    reason: input.reason,
    mechanism: input.entry.mechanism,
    before: plan.before,
    after: plan.after,
    links: { reverts: input.entry.id },
    outcome: plan.external ? "intent" : "applied",
  });
  const base = { id: draft.id, type: input.kind, plan, revert: null, expiresAt: null, actor };
  if (deps.dryRun) return { ...base, status: "dry-run", record: draft, notifications: [] };
  if (!(await deps.confirm(plan))) throw new UsageError("cancelled; nothing was changed");
  const event = input.kind === "revert" ? "reverted" : "expired";
  const landed = await land(deps, draft, `the ${input.kind} record`);
  if (landed.kind === "queued") {
    if (plan.external) throw intentNotPushed(`${input.kind} of ${input.entry.id}`, landed.reason);
    throw new PartialError(`${input.kind} of ${input.entry.id} is recorded locally but not pushed yet`, {
      hint: "run `optout sync`",
    });
  }
  if (!plan.external) {
    deps.report.step(`recorded ${input.kind} ${landed.record.id} of ${input.entry.id}`);
    const notifications = await announce(deps, event, landed.record);
    const result = await recordDelivery(deps, actor, landed.record, notifications);
    return {
      ...base,
      status: "applied",
      record: landed.record,
      ...(result ? { result } : {}),
      notifications,
    };
  }
  let outcome: "applied" | "failed" = "applied";
  let after: unknown = plan.after;
  let failure: OptoutError | undefined;
  try {
    after = (
      await guardedStep(deps, `${input.kind} of ${input.entry.id}`, (signal) =>
        deps.provider.restore(input.entry, original, plan, landed.record, signal),
      )
    ).after;
  } catch (e) {
    outcome = "failed";
    failure = e instanceof OptoutError ? e : new FailedError(`restoring failed: ${(e as Error).message}`);
  }
  const notifications = await announce(deps, outcome === "applied" ? event : "failed", landed.record);
  const result = await land(
    deps,
    draftBase(deps, actor, {
      type: "result",
      op,
      target: input.entry.target,
      mechanism: input.entry.mechanism,
      before: plan.before,
      after,
      links: { intent: landed.record.id, reverts: input.entry.id },
      outcome,
      ...(failure ? { error: failure.message } : {}),
      ...(notifications.length ? { notifications } : {}),
    }),
    "the result record",
  );
  if (failure) throw failure;
  if (result.kind === "queued")
    throw new PartialError(`${input.kind} applied; its result record is kept locally`);
  return { ...base, status: "applied", record: landed.record, result: result.record, notifications };
}
