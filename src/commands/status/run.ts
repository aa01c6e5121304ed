/**
 * `optout status`: what is in force now, from the evaluator — overrides with the ids `revert`
 * takes, requests awaiting approval, operations whose outcome is not known yet, and what is kept
 * locally. Nothing the policy in force does not allow, and nothing that has ended, is shown.
 */
import { formatDuration } from "../../core/duration.js";
import { type ReviewStatus, reviewStatus } from "../../core/review.js";
import type { InForce } from "../../core/state.js";
import type { Factory } from "../../factory.js";
import { paint } from "../../ui/paint.js";
import { fitLine, inertLine, table } from "../../ui/text.js";
import { describeEntry } from "../rules.js";

export async function runStatus(f: Factory): Promise<void> {
  const [store, { ev }, policy] = await Promise.all([f.ledgerStore(), f.evaluation(), f.policy()]);
  const now = f.now();
  const view = ev.view(now);
  const queued = await store.local.queued();
  const reviews = reviewStatus((await f.records()).records, policy.review, now);
  const left = (expiresAt: string | null) => (expiresAt ? Date.parse(expiresAt) - now.getTime() : null);
  const active = view.active();
  const pending = view.pending();
  const unsettled = view.unsettled();
  const notCounted = ev.alerts.filter((a) => a.kind === "junk").length;
  if (f.io.json) {
    f.io.printJson({
      active: active.map((a) => ({
        id: a.id,
        op: a.op,
        target: a.target,
        mechanism: a.mechanism,
        actor: a.login,
        ...(a.person !== a.login ? { requester: a.person } : {}),
        approvers: a.approvers,
        since: a.since,
        expiresAt: a.expiresAt,
        timeLeftMs: left(a.expiresAt),
        due: a.due,
        outcome: a.outcome,
        value: a.after,
        baseline: a.baseline,
        ...(a.replaces ? { replaces: a.replaces } : {}),
      })),
      pending: pending.map((q) => ({
        id: q.record.id,
        op: q.record.op,
        target: q.record.target,
        actor: q.record.actor.login,
        approvals: q.approvals.map((a) => a.login),
        required: q.required,
        expiresAt: q.record.expiresAt,
        timeLeftMs: left(q.record.expiresAt),
      })),
      unfinished: unsettled.map((o) => ({
        id: o.intent.id,
        type: o.intent.type,
        op: o.intent.op,
        target: o.intent.target,
        actor: o.intent.actor.login,
        since: o.intent.time,
        status: o.status,
      })),
      queued: queued.map((q) => ({ id: q.draft.id, type: q.draft.type })),
      reviews: { awaiting: reviews.awaiting, required: reviews.required, overdue: reviews.overdue },
      notCounted,
      seq: ev.tail?.seq ?? 0,
    });
    return;
  }
  const p = await paint(f.io);
  // Rows fit 100 columns: what is overridden comes last, and is cut with "…" when too long.
  const section = (title: string, rows: string[][]) => {
    f.io.out(p.bold(title));
    const lines = table(rows)
      .split("\n")
      .map((l) => fitLine(`  ${l}`, 100));
    f.io.out(rows.length ? lines.join("\n") : "  none");
  };
  const when = (a: InForce) =>
    a.outcome === "unknown"
      ? p.yellow("outcome unknown: optout sync")
      : a.due
        ? p.yellow("expired: optout expire")
        : a.expiresAt === null
          ? "no expiry"
          : `${formatDuration(left(a.expiresAt)!)} left`;
  section(
    "Active overrides",
    active.map((a) => [a.id, inertLine(a.login), when(a), inertLine(describeEntry(a, { compact: true }))]),
  );
  section(
    "Pending requests",
    pending.map((q) => [
      q.record.id,
      inertLine(q.record.actor.login),
      `${q.approvals.length}/${q.required} approvals`,
      q.record.expiresAt ? `${formatDuration(left(q.record.expiresAt)!)} left` : "",
      inertLine(describeEntry(q.record, { compact: true })),
    ]),
  );
  // A reminder only where reviews are a practice: a policy without `review` never asks for them.
  const awaiting = policy.review.configured ? reviewLine(reviews) : undefined;
  if (awaiting) f.io.out(reviews.required && reviews.overdue.length ? p.yellow(awaiting) : awaiting);
  if (unsettled.length) {
    section(
      "Unfinished (outcome not known: run optout sync)",
      unsettled.map((o) => [
        o.intent.id,
        inertLine(o.intent.actor.login),
        o.status === "running" ? "no result yet" : "the forge did not confirm",
        inertLine(describeEntry(o.intent, { compact: true })),
      ]),
    );
  }
  if (queued.length) {
    f.io.out(p.yellow(`${queued.length} record(s) kept locally, not pushed yet: run optout sync`));
    for (const q of queued) f.io.out(`  ${q.draft.id} ${q.draft.type} ${inertLine(q.draft.reason ?? "")}`);
  }
  if (notCounted) {
    f.io.out(p.yellow(`${notCounted} commit(s) on the audit branch do not count: optout log --verify`));
  }
}

/** "3 overrides await review (2 overdue)"; undefined when nothing awaits. */
function reviewLine(s: ReviewStatus): string | undefined {
  if (s.awaiting === 0) return undefined;
  const n = s.awaiting === 1 ? "1 override awaits review" : `${s.awaiting} overrides await review`;
  const overdue = s.required && s.overdue.length ? `, ${s.overdue.length} overdue` : "";
  return `${n}${overdue}: optout log --unreviewed`;
}
