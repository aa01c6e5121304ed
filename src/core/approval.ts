/**
 * Second-person approval: `approve` by someone in `approvals.from` — never the requester, each
 * person once — and the last required approval applies the override, recording both people.
 */
import { NotAllowedError, PendingError, UsageError } from "../errors.js";
import { matchingPrincipal } from "./authorize.js";
import { approvalsFor, deny, execute, type FlowDeps, type FlowResult } from "./flow.js";
import type { EntryRules } from "./policy.js";
import { principalToString } from "./policy.js";
import type { OverrideSpec } from "./ports.js";
import type { Actor, IndexEntry, LedgerRecord, OverrideType } from "./record.js";

export interface ApprovalInput {
  entry: IndexEntry;
  rules: EntryRules;
  label: string;
  reason: string | null;
}

function samePerson(a: Actor, b: Actor): boolean {
  // Two logins can map to one forge account (renames, a second signer principal): compare ids too.
  return a.provider === b.provider && (a.login.toLowerCase() === b.login.toLowerCase() || a.id === b.id);
}

async function loadRequest(deps: FlowDeps, entry: IndexEntry): Promise<LedgerRecord> {
  const request = await deps.ledger.record(entry);
  if (request.type !== "request" || request.outcome !== "pending") {
    throw new UsageError(`${entry.id} is not a pending request`);
  }
  if (request.expiresAt && Date.parse(request.expiresAt) <= deps.now().getTime()) {
    throw new UsageError(`request ${entry.id} expired at ${request.expiresAt}`, {
      hint: "ask for the override again; `optout expire` clears expired requests",
    });
  }
  return request;
}

export async function runApprove(deps: FlowDeps, input: ApprovalInput): Promise<FlowResult> {
  const actor = await deps.provider.identity();
  const request = await loadRequest(deps, input.entry);
  const approvals = approvalsFor(input.rules, request.target.env ?? null) ?? input.rules.approvals;
  if (!approvals) throw new UsageError(`the policy no longer asks approval for ${input.label}`);
  const about = {
    op: request.op,
    target: request.target,
    reason: input.reason,
    links: { request: request.id },
  };
  if (samePerson(actor, request.actor)) {
    await deny(
      deps,
      actor,
      about,
      new NotAllowedError(`${actor.login} may not approve their own request ${request.id}`, {
        hint: `someone else in ${approvals.from.map(principalToString).join(", ")} must approve it`,
      }),
    );
  }
  if (!(await matchingPrincipal(deps.provider, actor, approvals.from))) {
    await deny(
      deps,
      actor,
      about,
      new NotAllowedError(`${actor.login} may not approve ${input.label}`, {
        hint: `approvals come from: ${approvals.from.map(principalToString).join(", ")}`,
      }),
    );
  }
  const earlier = input.entry.approvals ?? [];
  if (earlier.some((a) => a.login.toLowerCase() === actor.login.toLowerCase())) {
    throw new NotAllowedError(`${actor.login} already approved ${request.id}; each person counts once`);
  }
  const approvers = [...earlier.map((a) => a.login), actor.login];
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
        hint: `${approvals.required - approvers.length} more from ${approvals.from.map(principalToString).join(", ")}`,
      },
    );
  }
  // The last approval applies it, planned afresh: the state may have moved since the request.
  const ttlMs = typeof request.ttlMs === "number" ? request.ttlMs : null;
  const spec: OverrideSpec = {
    op: request.op as OverrideType,
    target: request.target,
    mechanism: request.mechanism ?? "guard",
    params: request.params ?? {},
    expiresAt: ttlMs === null ? null : new Date(deps.now().getTime() + ttlMs).toISOString(),
  };
  const plan = await deps.provider.plan(spec, await deps.ledger.current());
  deps.report.plan(plan.steps);
  if (deps.dryRun) {
    return {
      id: request.id,
      type: spec.op,
      status: "dry-run",
      record: request,
      plan,
      revert: null,
      expiresAt: spec.expiresAt,
      actor,
      notifications: [],
    };
  }
  return execute(deps, actor, spec, plan, {
    reason: request.reason ?? "",
    ticket: request.ticket,
    label: input.label,
    links: { request: request.id },
    requester: request.actor.login,
    approvers,
  });
}

export async function runReject(deps: FlowDeps, input: ApprovalInput): Promise<LedgerRecord | undefined> {
  const actor = await deps.provider.identity();
  const request = await deps.ledger.record(input.entry);
  const approvals = input.rules.approvals;
  const mayReject =
    samePerson(actor, request.actor) ||
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
export async function expireRequest(deps: FlowDeps, entry: IndexEntry): Promise<string | undefined> {
  if (deps.dryRun) return undefined;
  const actor = await deps.provider.identity();
  const landed = await appendAbout(deps, actor, entry, {
    type: "expire",
    reason: `request not approved by ${entry.expiresAt}`,
    outcome: "applied",
  });
  return landed.record.id;
}
