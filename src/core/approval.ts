/**
 * Second-person approval: `approve` by someone in `approvals.from` — never the requester, each
 * person once — and the last required approval applies the override, recording both people. The
 * approvals that count are the signed approve records the evaluator accepted, never the index.
 */
import { NotAllowedError, PendingError, UsageError } from "../errors.js";
import { matchingPrincipal, sameActor } from "./authorize.js";
import { deny, execute, type FlowDeps, type FlowResult, targetView } from "./flow.js";
import { approvalsFor, type EntryRules, principalToString } from "./policy.js";
import type { OverrideSpec } from "./ports.js";
import type { Actor, LedgerRecord, OverrideType } from "./record.js";
import type { LedgerView, RequestState } from "./state.js";

export interface ApprovalInput {
  /** The request's id. */
  id: string;
  rules: EntryRules;
  label: string;
  reason: string | null;
}

/** The pending request `id` names, as the evaluator holds it. */
export function pendingRequest(view: LedgerView, id: string, now: Date): RequestState {
  const req = view.ev.requests.get(id);
  if (!req)
    throw new UsageError(`no request with id ${id}`, { hint: "`optout status` lists pending requests" });
  if (req.status !== "pending") {
    throw new UsageError(`request ${id} is ${req.status}${req.closedBy ? ` (${req.closedBy})` : ""}`);
  }
  const until = req.record.expiresAt;
  if (until && Date.parse(until) <= now.getTime()) {
    throw new UsageError(`request ${id} expired at ${until}`, {
      hint: "ask for the override again; `optout expire` closes expired requests",
    });
  }
  return req;
}

export async function runApprove(deps: FlowDeps, input: ApprovalInput): Promise<FlowResult> {
  const actor = await deps.provider.identity();
  const view = await deps.ledger.current();
  const req = pendingRequest(view, input.id, deps.now());
  const request = req.record;
  const approvals = approvalsFor(input.rules, request.target.env ?? null) ?? input.rules.approvals;
  if (!approvals) throw new UsageError(`the policy no longer asks approval for ${input.label}`);
  const about = {
    op: request.op,
    target: request.target,
    reason: input.reason,
    links: { request: request.id },
  };
  const others = approvals.from.map(principalToString).join(", ");
  if (sameActor(actor, request.actor)) {
    await deny(
      deps,
      actor,
      about,
      new NotAllowedError(`${actor.login} may not approve their own request ${request.id}`, {
        hint: `someone other than ${request.actor.login} in ${others} must approve it`,
      }),
    );
  }
  if (!(await matchingPrincipal(deps.provider, actor, approvals.from))) {
    await deny(
      deps,
      actor,
      about,
      new NotAllowedError(`${actor.login} may not approve ${input.label}`, {
        hint: `approvals come from: ${others} (not ${request.actor.login}, who asked)`,
      }),
    );
  }
  if (req.approvals.some((a) => sameActor(actor, a.record.actor))) {
    throw new NotAllowedError(`${actor.login} already approved ${request.id}; each person counts once`);
  }
  const approvers = [...req.approvals.map((a) => a.login), actor.login];
  if (deps.dryRun) {
    deps.report.plan([`will approve ${request.id} (${approvers.length} of ${approvals.required})`]);
  } else {
    const landed = await appendAbout(deps, actor, request, {
      type: "approve",
      reason: input.reason,
      outcome: "applied",
    });
    deps.report.step(`recorded approval ${landed.record.id} (${approvers.length} of ${approvals.required})`);
    if (deps.announce) await deps.announce("approved", landed.record);
  }
  if (approvers.length < approvals.required) {
    throw new PendingError(
      `request ${request.id} has ${approvers.length} of ${approvals.required} approvals`,
      {
        hint: `${approvals.required - approvers.length} more from ${others}, other than ${request.actor.login}`,
      },
    );
  }
  // The last approval applies it, planned afresh: the state may have moved since the request.
  const ttlMs = typeof request.ttlMs === "number" ? request.ttlMs : null;
  const op = request.op as OverrideType;
  const spec: OverrideSpec = {
    op,
    target: request.target,
    mechanism: request.mechanism ?? "guard",
    params: request.params ?? {},
    expiresAt: ttlMs === null ? null : new Date(deps.now().getTime() + ttlMs).toISOString(),
  };
  const fresh = deps.dryRun ? view : await deps.ledger.current();
  const tv = targetView(fresh, op, request.target);
  const plan = await deps.provider.plan(spec, tv);
  deps.report.plan(plan.steps);
  const first = {
    id: deps.newId(),
    type: op,
    op,
    actor,
    repo: deps.repo,
    target: request.target,
    reason: request.reason ?? "",
    ticket: request.ticket,
    mechanism: spec.mechanism,
    before: plan.before,
    after: plan.after,
    expiresAt: spec.expiresAt,
    links: { request: request.id, ...(tv.active ? { replaces: tv.active.id } : {}) },
    outcome: plan.external ? ("intent" as const) : ("applied" as const),
    ...(Object.keys(spec.params).length ? { params: spec.params } : {}),
    requester: request.actor.login,
    approvers,
  };
  if (deps.dryRun) {
    return {
      id: first.id,
      type: spec.op,
      status: "dry-run",
      record: first,
      plan,
      revert: null,
      expiresAt: spec.expiresAt,
      actor,
      notifications: [],
    };
  }
  return execute(deps, actor, spec, plan, first, { label: input.label });
}

export async function runReject(deps: FlowDeps, input: ApprovalInput): Promise<LedgerRecord | undefined> {
  const actor = await deps.provider.identity();
  const view = await deps.ledger.current();
  const request = pendingRequest(view, input.id, deps.now()).record;
  const approvals = input.rules.approvals;
  const mayReject =
    sameActor(actor, request.actor) ||
    (approvals && (await matchingPrincipal(deps.provider, actor, approvals.from)));
  if (!mayReject) {
    await deny(
      deps,
      actor,
      { op: request.op, target: request.target, reason: input.reason, links: { request: request.id } },
      new NotAllowedError(`${actor.login} may not reject ${request.id}`, {
        hint: "the requester may withdraw it; approvers may reject it",
      }),
    );
  }
  if (!input.reason || input.reason.trim().length === 0)
    throw new UsageError("--reason is required to reject a request");
  if (deps.dryRun) return undefined;
  const landed = await appendAbout(deps, actor, request, {
    type: "reject",
    reason: input.reason,
    outcome: "denied",
  });
  if (deps.announce) await deps.announce("rejected", landed.record);
  return landed.record;
}

/** Records an approval, rejection or expiry of a request; these are never queued (nothing acts on them offline). */
async function appendAbout(
  deps: FlowDeps,
  actor: Actor,
  request: Pick<LedgerRecord, "id" | "op" | "target" | "mechanism">,
  fields: { type: "approve" | "reject" | "expire"; reason: string | null; outcome: "applied" | "denied" },
): Promise<{ record: LedgerRecord }> {
  const landed = await deps.ledger.append(() => ({
    id: deps.newId(),
    op: request.op,
    actor,
    repo: deps.repo,
    target: request.target,
    ticket: null,
    mechanism: request.mechanism,
    before: null,
    after: null,
    expiresAt: null,
    links: { request: request.id },
    ...fields,
  }));
  if (landed.kind === "queued") {
    throw new UsageError(`could not record the ${fields.type}; try again when the remote is reachable`);
  }
  return landed;
}

/** Closes a request whose approval window passed (`optout expire`): it can no longer be approved. */
export async function expireRequest(deps: FlowDeps, request: LedgerRecord): Promise<string | undefined> {
  if (deps.dryRun) return undefined;
  const actor = await deps.provider.identity();
  const landed = await appendAbout(deps, actor, request, {
    type: "expire",
    reason: `request not approved by ${request.expiresAt}`,
    outcome: "applied",
  });
  return landed.record.id;
}
