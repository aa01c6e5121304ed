import type { NotificationResult } from "../../core/ports.js";
import { ExitCode, QuietExit, UsageError } from "../../errors.js";
import type { Factory } from "../../factory.js";
import { ulid } from "../../ledger/ulid.js";
import { testEvent } from "../../notify/index.js";

/** `optout notify test`: a test event to every configured channel, each result reported. */
export async function runNotifyTest(f: Factory): Promise<void> {
  const [policy, repo] = await Promise.all([f.policy(), f.repoName()]);
  if (policy.notify.length === 0) {
    throw new UsageError(`the policy has no "notify" channels`, {
      hint: `add slack, webhook or issue channels to ${policy.file}`,
    });
  }
  const provider = await f.provider();
  const actor = await provider.identity();
  const notifier = await f.notifier();
  const event = testEvent({ repo, actor, id: ulid(f.now().getTime()), now: f.now() });
  if (f.globals.dryRun) {
    const previews = notifier.preview(event);
    if (f.io.json) {
      // The shape of every notification result, as overrides report theirs.
      const results = previews.map((p) => ({
        channel: p.channel,
        status: "dry-run",
        attempts: 0,
        payload: p.payload,
      }));
      f.io.printJson({ dryRun: true, results });
    } else for (const p of previews) f.io.out(`${p.channel}: ${JSON.stringify(p.payload, null, 2)}`);
    return;
  }
  const results: NotificationResult[] = await notifier.announce(event);
  if (f.io.json) f.io.printJson({ results });
  else
    for (const r of results)
      f.io.out(
        `${r.channel}: ${r.status}${r.attempts ? ` after ${r.attempts} attempt(s)` : ""}${r.error ? ` (${r.error})` : ""}`,
      );
  if (results.some((r) => r.status === "failed")) throw new QuietExit(ExitCode.failed);
}
