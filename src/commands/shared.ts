/** What the override commands share: the flow's dependencies and the summary they print. */
import type { FlowDeps, FlowResult } from "../core/flow.js";
import type { NotificationResult, NotifyEvent, NotifyEventName, Plan } from "../core/ports.js";
import type { LedgerRecord, RecordDraft } from "../core/record.js";
import { visibleLength } from "../core/text.js";
import { UsageError } from "../errors.js";
import type { Factory } from "../factory.js";
import { ulid } from "../ledger/ulid.js";
import { paint } from "../ui/paint.js";
import { inertLine } from "../ui/text.js";

function notifyEvent(event: NotifyEventName, record: LedgerRecord | RecordDraft, repo: string): NotifyEvent {
  const links = {
    ...(event === "pending" ? { approve: `optout approve ${record.id}` } : {}),
    ...(event === "applied" ? { revert: `optout revert ${record.id}` } : {}),
  };
  return { event, record, repo, links };
}

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

export async function flowDeps(f: Factory): Promise<FlowDeps> {
  const [provider, ledger, repo, policy] = await Promise.all([
    f.provider(),
    f.ledger(),
    f.repoName(),
    f.policy(),
  ]);
  const p = await paint(f.io);
  const announce = async (
    event: NotifyEventName,
    record: LedgerRecord | RecordDraft,
  ): Promise<NotificationResult[]> => {
    if (policy.notify.length === 0) return [];
    const notifier = await f.notifier();
    const e = notifyEvent(event, record, repo);
    if (f.globals.dryRun) {
      for (const pv of notifier.preview(e))
        f.io.err(`would notify ${pv.channel}: ${JSON.stringify(pv.payload)}`);
      return notifier.preview(e).map((pv) => ({ channel: pv.channel, status: "dry-run", attempts: 0 }));
    }
    const results = await notifier.announce(e);
    const failed = results.filter((r) => r.status === "failed");
    if (failed.length) {
      await (await f.outbox()).keep(e, failed, f.now());
      f.undelivered.push(...failed.map((r) => r.channel));
    }
    for (const r of failed) {
      f.io.err(
        `${p.yellow("warning:")} notification to ${r.channel} failed: ${r.error ?? "unknown error"}; kept locally, \`optout sync\` sends it`,
      );
    }
    return results;
  };
  const deps: FlowDeps = {
    announce,
    ...(f.interrupt ? { interrupt: f.interrupt } : {}),
    provider,
    ledger,
    repo,
    now: () => f.now(),
    newId: () => ulid(f.now().getTime()),
    dryRun: f.globals.dryRun,
    confirm: (plan, o) => confirmPlan(f, plan, o),
    report: {
      plan: (lines) => {
        for (const l of lines) f.io.info(`${p.dim("plan:")} ${l}`);
      },
      step: (text) => f.io.info(`${p.green("✓")} ${text}`),
      progress: (text) => f.io.progress(text),
      warn: (text) => f.io.err(`${p.yellow("warning:")} ${text}`),
    },
  };
  return deps;
}

/**
 * Asks before going ahead on a terminal. A change that replaces someone else's override is never
 * taken as a yes by default: without a terminal it needs --yes, and on one the question says so.
 */
async function confirmPlan(f: Factory, _plan: Plan, o: { mustAsk?: string } = {}): Promise<boolean> {
  if (o.mustAsk && !f.globals.yes && !f.io.canPrompt) {
    throw new UsageError(`${o.mustAsk}: replacing someone else's waiver needs a yes`, {
      hint: "check with them, then run the same command with --yes (or on a terminal, to be asked)",
    });
  }
  if (!f.io.canPrompt) return true;
  return f.prompter.confirm(o.mustAsk ? `This ${o.mustAsk}. Go ahead?` : "Go ahead?", false);
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
