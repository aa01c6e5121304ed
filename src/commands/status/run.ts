import { formatDuration } from "../../core/duration.js";
import type { IndexEntry } from "../../core/record.js";
import type { Factory } from "../../factory.js";
import { paint } from "../../ui/paint.js";
import { inertLine, table } from "../../ui/text.js";
import { reviewLine, reviewStatus } from "../review/records.js";
import { describeEntry } from "../rules.js";

export async function runStatus(f: Factory): Promise<void> {
  const store = await f.ledgerStore();
  const fetched = await store.fetch({ history: true });
  if (!fetched.reachable)
    f.io.err(`optout: warning: cannot reach the remote (${fetched.error}); showing the local copy`);
  const tip = fetched.exists || !fetched.reachable ? await store.localTip() : undefined;
  const state = await store.state(tip);
  const queued = await store.queued();
  const reviews = await reviewStatus(f, tip);
  const now = f.now().getTime();
  const left = (e: IndexEntry) => (e.expiresAt ? Date.parse(e.expiresAt) - now : null);
  const active = state.index.active.map((e) => ({ ...e, timeLeftMs: left(e), expired: (left(e) ?? 1) <= 0 }));
  if (f.io.json) {
    f.io.printJson({
      active,
      pending: state.index.pending.map((e) => ({ ...e, timeLeftMs: left(e) })),
      unfinished: state.index.inflight,
      queued: queued.map((q) => ({ id: q.draft.id, type: q.draft.type })),
      reviews: {
        awaiting: reviews.awaiting,
        required: reviews.required,
        overdue: reviews.overdue,
      },
      seq: state.seq,
    });
    return;
  }
  const p = await paint(f.io);
  const section = (title: string, rows: string[][]) => {
    f.io.out(p.bold(title));
    f.io.out(rows.length ? table(rows).replace(/^/gm, "  ") : "  none");
  };
  section(
    "Active overrides",
    active.map((e) => [
      e.id,
      describeEntry(e),
      e.actor,
      e.timeLeftMs === null
        ? "no expiry"
        : e.expired
          ? p.yellow("expired: run optout expire")
          : `${formatDuration(e.timeLeftMs)} left`,
    ]),
  );
  section(
    "Pending requests",
    state.index.pending.map((e) => [
      e.id,
      describeEntry(e),
      e.actor,
      e.expiresAt ? `until ${e.expiresAt}` : "",
    ]),
  );
  // A reminder only where reviews are a practice: a policy without `review` never asks for them.
  const awaiting = (await f.policy()).review.configured ? reviewLine(reviews) : undefined;
  if (awaiting) f.io.out(reviews.required && reviews.overdue.length ? p.yellow(awaiting) : awaiting);
  if (state.index.inflight.length) {
    section(
      "Unfinished (intent recorded, outcome unknown: run optout sync)",
      state.index.inflight.map((e) => [e.id, describeEntry(e), e.actor, e.time]),
    );
  }
  if (queued.length) {
    f.io.out(p.yellow(`${queued.length} record(s) kept locally, not pushed yet: run optout sync`));
    for (const q of queued) f.io.out(`  ${q.draft.id} ${q.draft.type} ${inertLine(q.draft.reason ?? "")}`);
  }
}
