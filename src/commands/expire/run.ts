import { expireRequest } from "../../core/approval.js";
import { parseTimestamp } from "../../core/duration.js";
import { type FlowResult, runRestore } from "../../core/flow.js";
import type { Factory } from "../../factory.js";
import { describeEntry } from "../rules.js";
import { flowDeps } from "../shared.js";

export interface ExpireOptions {
  now?: string;
}

/** Ends every override past its TTL. Idempotent: a second run finds nothing to do. */
export async function runExpire(f: Factory, o: ExpireOptions): Promise<void> {
  const now = o.now ? parseTimestamp(o.now, "--now") : f.now();
  const deps = await flowDeps(f);
  const state = await deps.ledger.current();
  const due = state.index.active.filter((e) => e.expiresAt && Date.parse(e.expiresAt) <= now.getTime());
  const results: FlowResult[] = [];
  for (const entry of due) {
    // Anyone whose key is in allowed_signers may expire: it only restores the recorded state.
    results.push(
      await runRestore(
        deps,
        { kind: "expire", entry, reason: `TTL ended at ${entry.expiresAt}` },
        async () => {},
      ),
    );
  }
  // Requests nobody approved in time are closed too, so they can no longer be approved.
  const stale = state.index.pending.filter((e) => e.expiresAt && Date.parse(e.expiresAt) <= now.getTime());
  const closed: (string | undefined)[] = [];
  for (const entry of stale) closed.push(await expireRequest(deps, entry));
  if (f.io.json) {
    f.io.printJson({
      now: now.toISOString(),
      expired: results.map((r, i) => ({ id: due[i]!.id, record: r.id, status: r.status })),
      requests: stale.map((e, i) => ({
        id: e.id,
        record: closed[i] ?? null,
        status: closed[i] ? "applied" : "dry-run",
      })),
    });
    return;
  }
  if (due.length === 0 && stale.length === 0) f.io.out("nothing to expire");
  stale.forEach((e, i) => {
    f.io.out(
      `${closed[i] ? "closed" : "would close"} request ${e.id} (${describeEntry(e)}): not approved in time`,
    );
  });
  due.forEach((e, i) => {
    f.io.out(
      `${results[i]!.status === "dry-run" ? "would expire" : "expired"} ${describeEntry(e)} (${e.id})`,
    );
  });
}
