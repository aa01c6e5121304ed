import { requireDurationMs } from "../../core/duration.js";
import type { Operation } from "../../core/state.js";
import { PartialError } from "../../errors.js";
import type { Factory } from "../../factory.js";
import { ulid } from "../../ledger/ulid.js";
import type { OptionsOf } from "../define.js";
import { describeEntry } from "../rules.js";
import type { syncCommand } from "./command.js";

export type SyncOptions = OptionsOf<typeof syncCommand>;

/**
 * Pushes what was kept locally, then settles operations whose outcome is not known (an intent with
 * no result, or a result that said `unknown`): it reads the state from the provider and records
 * what it finds. It never re-applies or undoes anything, so a crash cannot cause a second change;
 * what the provider cannot tell stays `unknown`, with a note to look.
 */
export async function runSync(f: Factory, o: SyncOptions = {}): Promise<void> {
  // 0 is meaningful here: settle whatever is left now, however recent.
  const settleAfterMs =
    o.settleAfter === undefined ? 3_600_000 : requireDurationMs(o.settleAfter, "--settle-after");
  const [store, ledger] = await Promise.all([f.ledgerStore(), f.ledger()]);
  const queued = await store.local.queued();
  const pushed: string[] = [];
  const left: { id: string; reason: string }[] = [];
  const dry = f.globals.dryRun;
  if (queued.length && !dry) {
    for (const q of queued) {
      const r = await ledger.append(() => q.draft, { keep: false });
      if (r.kind === "landed") {
        await store.local.dequeue(q.file);
        pushed.push(q.draft.id);
      } else {
        left.push({ id: q.draft.id, reason: r.reason });
        break;
      }
    }
  }
  const view = await ledger.current();
  const settled: { id: string; outcome: string; why: string }[] = [];
  const waiting: { id: string; why: string }[] = [];
  for (const op of view.unsettled()) {
    const id = op.intent.id;
    const running = await store.local.runningState(id);
    const age = f.now().getTime() - Date.parse(op.intent.time);
    if (running === "alive") {
      waiting.push({ id, why: "still running on this machine" });
      continue;
    }
    if (op.status === "running" && running === "unknown" && age < settleAfterMs) {
      waiting.push({ id, why: "may still be running elsewhere (see --settle-after)" });
      continue;
    }
    const s = await settle(f, op, dry);
    if (s) settled.push(s);
    else
      waiting.push({
        id,
        why: "still unknown: the provider cannot tell; check it, then revert or run it again",
      });
  }
  const notifications = await resend(f, dry);
  if (f.io.json) {
    f.io.printJson({
      pushed,
      ...(dry ? { wouldPush: queued.map((q) => q.draft.id) } : {}),
      left,
      settled,
      waiting,
      notifications,
    });
  } else {
    if (dry) for (const q of queued) f.io.out(`would push ${q.draft.type} ${q.draft.id}`);
    for (const id of pushed) f.io.out(`pushed ${id}`);
    for (const l of left) f.io.out(`still kept locally: ${l.id} (${l.reason})`);
    for (const s of settled) f.io.out(`${dry ? "would settle" : "settled"} ${s.id}: ${s.outcome} (${s.why})`);
    for (const w of waiting) f.io.out(`left alone: ${w.id}: ${w.why}`);
    for (const n of notifications) {
      const what = `${n.event} of ${n.id} to ${n.channel}`;
      f.io.out(
        n.status === "sent"
          ? `notified ${what}`
          : n.status === "dry-run"
            ? `would notify ${what}`
            : n.status === "dropped"
              ? `dropped the notification ${what}: ${n.error}`
              : `notification ${what} still kept locally (${n.error})`,
      );
    }
    if (!queued.length && !view.unsettled().length && !notifications.length) f.io.out("nothing to sync");
  }
  const owed = notifications.filter((n) => n.status === "failed").length;
  if (left.length || owed) {
    throw new PartialError(
      `${[
        left.length ? `${queued.length - pushed.length} record(s)` : "",
        owed ? `${owed} notification(s)` : "",
      ]
        .filter(Boolean)
        .join(" and ")} still kept locally`,
      { hint: "run `optout sync` again once the remote and the channels are reachable" },
    );
  }
}
interface Resent {
  id: string;
  event: string;
  channel: string;
  status: "sent" | "failed" | "dropped" | "dry-run";
  error?: string;
}

/** Sends the announcements kept by earlier commands to the channels that missed them. */
async function resend(f: Factory, dry: boolean): Promise<Resent[]> {
  const outbox = await f.outbox();
  const kept = await outbox.list();
  if (kept.length === 0) return [];
  const out: Resent[] = [];
  const notifier = dry ? undefined : await f.notifier();
  for (const k of kept) {
    const base = { id: k.event.record.id, event: k.event.event };
    if (!notifier) {
      for (const c of k.channels) out.push({ ...base, channel: c.channel, status: "dry-run" });
      continue;
    }
    const results = await notifier.announce(
      k.event,
      k.channels.map((c) => c.channel),
    );
    const failing: { channel: string; error: string }[] = [];
    for (const c of k.channels) {
      const r = results.find((x) => x.channel === c.channel);
      // A channel the policy no longer has cannot be sent to: it is dropped, and said so.
      if (!r) {
        out.push({ ...base, channel: c.channel, status: "dropped", error: "the policy no longer has it" });
      } else if (r.status === "sent") {
        out.push({ ...base, channel: c.channel, status: "sent" });
      } else {
        const error = r.error ?? "not delivered";
        out.push({ ...base, channel: c.channel, status: "failed", error });
        failing.push({ channel: c.channel, error });
      }
    }
    await outbox.settle(k, failing);
  }
  return out;
}

/** Reads what the provider says of one operation and records it; undefined when it cannot tell. */
async function settle(
  f: Factory,
  op: Operation,
  dry: boolean,
): Promise<{ id: string; outcome: string; why: string } | undefined> {
  const [provider, ledger, repo, store] = await Promise.all([
    f.provider(),
    f.ledger(),
    f.repoName(),
    f.ledgerStore(),
  ]);
  const intent = op.intent;
  /** The settling `result` record for the intent, then its running marker gone. */
  const record = async (outcome: "applied" | "failed" | "unknown", after: unknown, error?: string) => {
    const actor = await provider.identity();
    await ledger.append(() => ({
      id: ulid(f.now().getTime()),
      type: "result",
      op: intent.op,
      actor,
      repo,
      target: intent.target,
      reason: null,
      ticket: null,
      mechanism: intent.mechanism,
      before: intent.before,
      after,
      expiresAt: intent.expiresAt,
      links: { intent: intent.id, ...(intent.links.reverts ? { reverts: intent.links.reverts } : {}) },
      outcome,
      ...(error !== undefined ? { error } : {}),
      settledBy: "sync",
    }));
    await store.local.clearRunning(intent.id);
  };
  const found = provider.settle ? await provider.settle(intent) : undefined;
  if (!found) {
    // Nothing to read back (a command on plain git): record that its process is gone, once.
    if (op.status === "unknown") return undefined;
    if (!dry) {
      await record(
        "unknown",
        null,
        `optout stopped while carrying out ${describeEntry(intent)}; nothing was re-run — check it, then revert it or run it again`,
      );
    }
    return { id: intent.id, outcome: "unknown", why: "the process carrying it out is gone; check it" };
  }
  const outcome = found.applied ? "applied" : "failed";
  const why = found.applied
    ? `the change was found in effect on ${provider.name}`
    : `the change was not in effect on ${provider.name}`;
  if (!dry)
    await record(
      outcome,
      found.applied ? found.after : intent.before,
      outcome === "failed" ? why : undefined,
    );
  return { id: intent.id, outcome, why };
}
