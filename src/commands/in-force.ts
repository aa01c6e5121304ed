/** Reading what is in force from the ledger, with every record it relies on verified. */
import type { IndexEntry, LedgerRecord } from "../core/record.js";
import { FailedError } from "../errors.js";
import type { Factory } from "../factory.js";
import { findInForce } from "../ledger/waiver.js";

export interface InForceQuery {
  /** Candidates from the index. */
  select: (e: IndexEntry) => boolean;
  /** Re-checks the verified record itself; a reason when it does not count. */
  check: (r: LedgerRecord) => string | undefined;
}

/** The verified record in force for each group of candidates (one call per scope). */
export async function inForce(f: Factory, queries: InForceQuery[]): Promise<(LedgerRecord | undefined)[]> {
  const [store, trust, policy, repo] = await Promise.all([
    f.ledgerStore(),
    f.trust(),
    f.policy(),
    f.repoName(),
  ]);
  const fetched = await store.fetch();
  if (!fetched.reachable) {
    throw new FailedError(`cannot fetch the audit branch from ${policy.audit.remote}: ${fetched.error}`);
  }
  const tip = fetched.exists ? await store.localTip() : undefined;
  if (!tip) return queries.map(() => undefined);
  const state = await store.state(tip);
  const out: (LedgerRecord | undefined)[] = [];
  for (const q of queries) {
    const candidates = state.index.active.filter(q.select);
    const { found } = await findInForce(
      store,
      tip,
      candidates,
      (r) => (r.repo !== repo ? `record is for ${r.repo}` : q.check(r)),
      trust,
      policy.audit.namespace,
      f.now(),
    );
    out.push(found?.record);
  }
  return out;
}
