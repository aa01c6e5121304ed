/** What the override commands share: the questions they ask and the summary they print. */
import { notifyEvent } from "../core/announce.js";
import type { FlowResult } from "../core/flow.js";
import type { NotificationResult, NotifyEventName } from "../core/ports.js";
import { visibleLength } from "../core/text.js";
import { UsageError } from "../errors.js";
import type { Factory } from "../factory.js";
import { paint } from "../ui/paint.js";
import { inertLine } from "../ui/text.js";

/** What a dry run would announce, channel by channel, with the payload each would get. */
async function wouldAnnounce(f: Factory, r: FlowResult): Promise<NotificationResult[]> {
  const policy = await f.policy();
  if (policy.notify.length === 0) return [];
  const event: NotifyEventName =
    r.type === "request"
      ? "pending"
      : r.type === "revert"
        ? "reverted"
        : r.type === "expire"
          ? "expired"
          : "applied";
  const notifier = await f.notifier();
  return notifier
    .preview(notifyEvent(event, r.record, await f.repoName()))
    .map((pv) => ({ channel: pv.channel, status: "dry-run", attempts: 0, payload: pv.payload }));
}

/** Picks one of `choices` on a terminal; elsewhere a usage error naming the missing flag. */
export async function choose(
  f: Factory,
  message: string,
  choices: readonly string[],
  flag: string,
): Promise<string> {
  if (!f.io.canPrompt || choices.length === 0) {
    throw new UsageError(`missing ${flag}`, {
      hint: choices.length ? `one of: ${choices.join(", ")}` : "see `optout <command> --help`",
    });
  }
  return f.prompter.select(
    message,
    choices.map((c) => ({ value: c, name: c })),
  );
}

/** Asks for a value on a terminal, or says which flag is missing. */
export async function askReason(f: Factory, minLength: number): Promise<string | undefined> {
  if (!f.io.canPrompt) return undefined;
  return f.prompter.input(
    `Reason (at least ${minLength} characters):`,
    undefined,
    // The rule validateInputs applies: what a reader sees counts, zero-width characters do not.
    (v) => visibleLength(v) >= minLength || `${visibleLength(v)}/${minLength} characters`,
  );
}

export async function presentFlow(f: Factory, r: FlowResult, verb: string): Promise<void> {
  if (r.status === "dry-run" && r.notifications.length === 0) r.notifications = await wouldAnnounce(f, r);
  if (f.io.json) {
    f.io.printJson({
      id: r.id,
      type: r.type,
      status: r.status,
      record: r.record,
      ...(r.result ? { result: r.result } : {}),
      plan: r.plan.steps,
      ...(r.status === "dry-run" ? { calls: r.plan.calls } : {}),
      revert: r.revert,
      expiresAt: r.expiresAt,
      notifications: r.notifications,
      ...(r.attempts !== undefined ? { attempts: r.attempts } : {}),
    });
    return;
  }
  const p = await paint(f.io);
  if (r.status === "dry-run") {
    f.io.out(`${p.bold("dry run")}: nothing was changed. It would:`);
    for (const c of r.plan.calls) f.io.out(`  - ${c}`);
    f.io.out(
      `  record ${r.record.type} ${r.id} by ${r.actor.login}${r.expiresAt ? `, expiring ${r.expiresAt}` : ""}`,
    );
    for (const n of r.notifications as { channel: string; payload?: { to?: string; issue?: number } }[]) {
      const to = n.payload?.to ?? (n.payload?.issue ? `issue #${n.payload.issue}` : undefined);
      f.io.out(`  notify ${n.channel}${to ? ` (${to})` : ""}`);
    }
    return;
  }
  f.io.out(`${p.green("✓")} ${verb} ${p.dim(`(${r.id})`)}`);
  if (r.record.reason) f.io.out(`  reason   ${inertLine(String(r.record.reason))}`);
  f.io.out(`  by       ${r.actor.login}`);
  if (r.expiresAt) f.io.out(`  expires  ${r.expiresAt}`);
  if (r.revert) f.io.out(`  revert   ${r.revert}`);
  for (const n of r.notifications as { channel: string; status: string; error?: string }[]) {
    const line = `  notify   ${n.channel}: ${n.status}${n.error ? ` (${n.error})` : ""}`;
    f.io.out(n.status === "failed" ? p.yellow(line) : line);
  }
}
