/**
 * The one override flow, for every override type and provider:
 * authorize → validate → plan → (dry-run stops) → confirm → intent → apply → result.
 * Refusals by policy are recorded (`deny`) so reviewers see attempts, not just successes.
 */
import { FailedError, type NotAllowedError, OptoutError, PartialError, UsageError } from "../errors.js";
import { matchingPrincipal, notAllowed, validateInputs } from "./authorize.js";
import type { EntryRules } from "./policy.js";
import type { AppendOutcome, LedgerPort, OverrideSpec, Plan, ProviderPort } from "./ports.js";
import type { Actor, IndexEntry, LedgerRecord, OverrideType, RecordDraft, Target } from "./record.js";

export interface FlowReporter {
  plan(lines: string[]): void;
  step(text: string): void;
  warn(text: string): void;
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

async function landOrThrow(
  deps: FlowDeps,
  draftFor: () => RecordDraft,
  what: string,
): Promise<AppendOutcome> {
  const r = await deps.ledger.append(draftFor);
  if (r.kind === "queued") {
    deps.report.warn(`${what} could not be pushed (${r.reason}); it is kept locally — run \`optout sync\``);
  }
  return r;
}

/** Writes a `deny` record for a policy refusal, then throws it. Dry runs write nothing. */
async function deny(
  deps: FlowDeps,
  actor: Actor,
  input: OverrideInput,
  error: NotAllowedError,
): Promise<never> {
  if (!deps.dryRun) {
    await landOrThrow(
      deps,
      () =>
        draftBase(deps, actor, {
          type: "deny",
          op: input.op,
          target: input.target,
          reason: input.reason ?? null,
          ticket: input.ticket ?? null,
          mechanism: input.mechanism,
          outcome: "denied",
          error: error.message,
        }),
      "the deny record",
    );
  }
  throw error;
}

export async function runOverride(deps: FlowDeps, input: OverrideInput): Promise<FlowResult> {
  const actor = await deps.provider.identity();
  const match = await matchingPrincipal(deps.provider, actor, input.rules.allow);
  if (!match) await deny(deps, actor, input, notAllowed(actor, input.label, input.rules.allow));
  const { ttlMs } = validateInputs(input.rules, input, input.label);
  const expiresAt = ttlMs === null ? null : new Date(deps.now().getTime() + ttlMs).toISOString();
  const spec: OverrideSpec = {
    op: input.op,
    target: input.target,
    mechanism: input.mechanism,
    params: input.params ?? {},
    expiresAt,
  };
  const state = await deps.ledger.current();
  const plan = await deps.provider.plan(spec, state);
  deps.report.plan(plan.steps);

  const draftFor = (outcome: "intent" | "applied"): RecordDraft => ({
    ...draftBase(deps, actor, {
      type: input.op,
      op: input.op,
      target: input.target,
      reason: input.reason!.trim(),
      ticket: input.ticket?.trim() || null,
      mechanism: input.mechanism,
      before: plan.before,
      after: plan.after,
      expiresAt,
      outcome,
    }),
    ...(Object.keys(spec.params).length ? { params: spec.params } : {}),
  });

  if (deps.dryRun) {
    const preview = draftFor(plan.external ? "intent" : "applied");
    return {
      id: preview.id,
      type: input.op,
      status: "dry-run",
      record: preview,
      plan,
      revert: null,
      expiresAt,
      actor,
    };
  }
  if (!(await deps.confirm(plan))) throw new UsageError("cancelled; nothing was changed");

  // Write-ahead: the record lands before the forge changes. The id is fixed across retries.
  const first = draftFor(plan.external ? "intent" : "applied");
  const landed = await landOrThrow(deps, () => ({ ...first, before: first.before }), "the record");
  if (landed.kind === "queued") {
    if (plan.external) {
      throw new FailedError("could not write the intent record; nothing was changed", {
        hint: "check that the remote is reachable and you may push to the audit branch, then try again",
      });
    }
    throw new PartialError(`override ${first.id} is recorded locally but not pushed yet`, {
      hint: "run `optout sync` when the remote is reachable; until then pipelines do not see it",
    });
  }
  const record = landed.record;
  if (!plan.external) {
    deps.report.step(`recorded ${input.op} ${record.id} on the audit branch`);
    return {
      id: record.id,
      type: input.op,
      status: "applied",
      record,
      plan,
      revert: `optout revert ${record.id}`,
      expiresAt,
      actor,
    };
  }
  deps.report.step(`recorded intent ${record.id}`);
  let outcome: "applied" | "failed" = "applied";
  let after: unknown = plan.after;
  let failure: OptoutError | undefined;
  try {
    const applied = await deps.provider.apply(spec, plan, record);
    after = applied.after;
    deps.report.step(applied.detail ?? "applied");
  } catch (e) {
    outcome = "failed";
    failure = e instanceof OptoutError ? e : new FailedError(`applying failed: ${(e as Error).message}`);
  }
  const result = await landOrThrow(
    deps,
    () =>
      draftBase(deps, actor, {
        type: "result",
        op: input.op,
        target: input.target,
        mechanism: input.mechanism,
        before: plan.before,
        after: outcome === "applied" ? after : plan.before,
        expiresAt,
        links: { intent: record.id },
        outcome,
        ...(failure ? { error: failure.message } : {}),
      }),
    "the result record",
  );
  if (failure) throw failure;
  if (result.kind === "queued") {
    throw new PartialError(`${input.label} was applied, but its result record is kept locally`, {
      hint: "run `optout sync` to push it",
    });
  }
  return {
    id: record.id,
    type: input.op,
    status: "applied",
    record,
    result: result.record,
    plan,
    revert: `optout revert ${record.id}`,
    expiresAt,
    actor,
  };
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
  const state = await deps.ledger.current();
  const plan = await deps.provider.planRestore(input.entry, original, state);
  deps.report.plan(plan.steps);
  const op = (input.entry.op ?? input.entry.type) as OverrideType;
  const draftFor = (outcome: "intent" | "applied"): RecordDraft =>
    draftBase(deps, actor, {
      type: input.kind,
      op,
      target: input.entry.target,
      reason: input.reason,
      mechanism: input.entry.mechanism,
      before: plan.before,
      after: plan.after,
      links: { reverts: input.entry.id },
      outcome,
    });
  if (deps.dryRun) {
    const preview = draftFor(plan.external ? "intent" : "applied");
    return {
      id: preview.id,
      type: input.kind,
      status: "dry-run",
      record: preview,
      plan,
      revert: null,
      expiresAt: null,
      actor,
    };
  }
  if (!(await deps.confirm(plan))) throw new UsageError("cancelled; nothing was changed");
  const first = draftFor(plan.external ? "intent" : "applied");
  const landed = await landOrThrow(deps, () => first, `the ${input.kind} record`);
  if (landed.kind === "queued") {
    if (plan.external) throw new FailedError(`could not write the ${input.kind} intent; nothing was changed`);
    throw new PartialError(`${input.kind} of ${input.entry.id} is recorded locally but not pushed yet`, {
      hint: "run `optout sync`",
    });
  }
  if (!plan.external) {
    deps.report.step(`recorded ${input.kind} ${landed.record.id} of ${input.entry.id}`);
    return {
      id: landed.record.id,
      type: input.kind,
      status: "applied",
      record: landed.record,
      plan,
      revert: null,
      expiresAt: null,
      actor,
    };
  }
  let outcome: "applied" | "failed" = "applied";
  let after: unknown = plan.after;
  let failure: OptoutError | undefined;
  try {
    after = (await deps.provider.restore(input.entry, original, plan, landed.record)).after;
  } catch (e) {
    outcome = "failed";
    failure = e instanceof OptoutError ? e : new FailedError(`restoring failed: ${(e as Error).message}`);
  }
  const result = await landOrThrow(
    deps,
    () =>
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
      }),
    "the result record",
  );
  if (failure) throw failure;
  if (result.kind === "queued")
    throw new PartialError(`${input.kind} applied; its result record is kept locally`);
  return {
    id: landed.record.id,
    type: input.kind,
    status: "applied",
    record: landed.record,
    result: result.record,
    plan,
    revert: null,
    expiresAt: null,
    actor,
  };
}
