import { requireDurationMs } from "../../core/duration.js";
import type { IndexEntry, LedgerRecord } from "../../core/record.js";
import { PartialError } from "../../errors.js";
import type { Factory } from "../../factory.js";
import { signSshsig } from "../../ledger/sshsig.js";
import { ulid } from "../../ledger/ulid.js";
import { describeEntry } from "../rules.js";

export interface SyncOptions {
  settleAfter?: string;
}

/**
 * Pushes what was kept locally, then settles operations left half-done (an intent with no
 * result): it reads the state from the provider and records what it finds. It never re-applies
 * anything, so a crash cannot cause a second forge change.
 */
export async function runSync(f: Factory, o: SyncOptions = {}): Promise<void> {
  const settleAfterMs =
    o.settleAfter === undefined ? 3_600_000 : requireDurationMs(o.settleAfter, "--settle-after");
  const [store, policy] = await Promise.all([f.ledgerStore(), f.policy()]);
  const queued = await store.queued();
  const pushed: string[] = [];
  const left: { id: string; reason: string }[] = [];
  const dry = f.globals.dryRun;
  if (queued.length && !dry) {
    const signer = await f.signer();
    const principal = await f.signerPrincipal();
    for (const q of queued) {
      const r = await store.append(
        () => q.draft,
        (b) => signSshsig(b, signer, policy.audit.namespace),
        principal,
      );
      if (r.kind === "landed") {
        await store.dequeue(q.file);
        pushed.push(q.draft.id);
      } else {
        left.push({ id: q.draft.id, reason: r.reason });
        break;
      }
    }
  }
  await store.fetch();
  const state = await store.state(await store.localTip());
  const settled: { id: string; outcome: string; why: string }[] = [];
  const waiting: { id: string; why: string }[] = [];
  for (const entry of state.index.inflight) {
    const running = await store.runningState(entry.id);
    const age = f.now().getTime() - Date.parse(entry.time);
    if (running === "alive") {
      waiting.push({ id: entry.id, why: "still running on this machine" });
      continue;
    }
    if (running === "unknown" && age < settleAfterMs) {
      waiting.push({ id: entry.id, why: "may still be running elsewhere (see --settle-after)" });
      continue;
    }
    settled.push(await settle(f, entry, dry));
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
    if (!queued.length && !state.index.inflight.length && !notifications.length) f.io.out("nothing to sync");
  }
  const owed = notifications.filter((n) => n.status === "failed").length;
  if (left.length || owed) {
    throw new PartialError(
      [left.length ? `${queued.length - pushed.length} record(s)` : "", owed ? `${owed} notification(s)` : ""]
        .filter(Boolean)
        .join(" and ") + " still kept locally",
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

async function settle(
  f: Factory,
  entry: IndexEntry,
  dry: boolean,
): Promise<{ id: string; outcome: string; why: string }> {
  const [provider, ledger, repo] = await Promise.all([f.provider(), f.ledger(), f.repoName()]);
  const intent: LedgerRecord = await ledger.record(entry);
  const found = provider.settle ? await provider.settle(intent) : undefined;
  const outcome = found?.applied ? "applied" : "failed";
  const why = found
    ? found.applied
      ? `the change was found in effect on ${provider.name}`
      : `the change was not in effect on ${provider.name}`
    : `outcome unknown: optout stopped while carrying out ${describeEntry(entry)}; nothing was re-run — check it and run the override again if needed`;
  if (!dry) {
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
      after: found?.applied ? found.after : intent.before,
      expiresAt: intent.expiresAt,
      links: { intent: intent.id, ...(intent.links.reverts ? { reverts: intent.links.reverts } : {}) },
      outcome,
      ...(outcome === "failed" ? { error: why } : {}),
      settledBy: "sync",
    }));
    await (await f.ledgerStore()).clearRunning(entry.id);
  }
  return { id: entry.id, outcome, why };
}
