import { expireRequest } from "../../core/approval.js";
import { clockToleranceMs } from "../../core/chain.js";
import { parseTimestamp } from "../../core/duration.js";
import { type FlowResult, runRestore } from "../../core/flow.js";
import { UsageError } from "../../errors.js";
import type { Factory } from "../../factory.js";
import type { OptionsOf } from "../define.js";
import { describeEntry } from "../rules.js";

import type { expireCommand } from "./command.js";

export type ExpireOptions = OptionsOf<typeof expireCommand>;

/**
 * Ends every override whose TTL has passed: a forge's change is restored to the baseline; a
 * ledger-only one (which stopped counting at its TTL) gets its end recorded and announced. Closes
 * requests nobody approved in time. Idempotent: a second run finds nothing.
 */
export async function runExpire(f: Factory, o: ExpireOptions): Promise<void> {
  const clock = f.now();
  const now = o.now ? parseTimestamp(o.now, "--now") : clock;
  if (now.getTime() > clock.getTime() + clockToleranceMs) {
    // An expire record says an end happened; it cannot say so before the TTL ran out.
    throw new UsageError(`--now ${o.now} is later than this machine's clock (${clock.toISOString()})`, {
      hint: "expire ends what is due by now or an earlier time; run it again when the TTL has passed",
    });
  }
  const deps = await f.flowDeps();
  const view = (await deps.ledger.current()).ev.view(now);
  const due = view.expired();
  const results: FlowResult[] = [];
  for (const a of due) {
    // Anyone whose key is in allowed_signers may expire: it only restores the recorded state.
    results.push(
      await runRestore(
        { ...deps, now: () => now },
        { kind: "expire", id: a.id, reason: `TTL ended at ${a.expiresAt}` },
        async () => {},
      ),
    );
  }
  const stale = view.stalePending();
  const closed: (string | undefined)[] = [];
  for (const q of stale) closed.push(await expireRequest(deps, q.record));
  if (f.io.json) {
    f.io.printJson({
      now: now.toISOString(),
      // `id` is the override or request that ended; `record` is always a record, as everywhere.
      expired: results.map((r, i) => ({ id: due[i]!.id, status: r.status, record: r.record })),
      requests: stale.map((q, i) => ({
        id: q.record.id,
        status: closed[i] ? "applied" : "dry-run",
        closedBy: closed[i] ?? null,
      })),
    });
    return;
  }
  if (due.length === 0 && stale.length === 0) f.io.out("nothing to expire");
  stale.forEach((q, i) => {
    f.io.out(
      `${closed[i] ? "closed" : "would close"} request ${q.record.id} (${describeEntry(q.record)}): not approved in time`,
    );
  });
  due.forEach((a, i) => {
    f.io.out(
      `${results[i]!.status === "dry-run" ? "would expire" : "expired"} ${describeEntry(a)} (${a.id})`,
    );
  });
}
