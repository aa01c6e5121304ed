/**
 * What `optout guard` relies on. The index (`state/active.json`) only nominates candidates; a
 * candidate counts when its record verifies against allowed_signers today, is for this repo,
 * stage and ref/commit, has not expired, its signer is still allowed by the policy, and no later
 * record (a bounded scan: the days since it was written) reverts or expires it.
 */
import { type IndexEntry, type LedgerRecord, overrideOf } from "../core/record.js";
import { parseTree, readObjects } from "../git/objects.js";
import { checkRecord } from "./reader.js";
import type { Ledger } from "./store.js";
import type { TrustSource } from "./trust.js";
import { ulidTime } from "./ulid.js";

export interface GuardQuery {
  repo: string;
  stage: string;
  ref: string | undefined;
  sha: string | undefined;
  now: Date;
}

export type GuardDecision =
  | { skip: true; record: LedgerRecord; path: string }
  | { skip: false; why: string; ignored: { id: string; why: string }[] };

function matchesScope(e: { target: Record<string, string | null> }, q: GuardQuery): boolean {
  const t = e.target;
  if (t.stage !== q.stage) return false;
  if (t.sha) return !!q.sha && (q.sha.startsWith(t.sha) || t.sha.startsWith(q.sha));
  return !!q.ref && t.ref === q.ref;
}

export interface InForce {
  record: LedgerRecord;
  entry: IndexEntry;
}

/**
 * The newest candidate that is really in force: its record verifies against allowed_signers
 * today, passes `check` (scope, repo, type — read from the record, never the index), has not
 * expired, and no later record ends it.
 */
export async function findInForce(
  ledger: Ledger,
  tip: string,
  candidates: IndexEntry[],
  check: (r: LedgerRecord) => string | undefined,
  trust: TrustSource,
  namespace: string,
  now: Date,
): Promise<{ found?: InForce; ignored: { id: string; why: string }[] }> {
  const ignored: { id: string; why: string }[] = [];
  const live = candidates
    .filter((e) => {
      if (e.expiresAt && Date.parse(e.expiresAt) <= now.getTime()) {
        ignored.push({ id: e.id, why: "expired" });
        return false;
      }
      return true;
    })
    .sort((a, b) => (a.id < b.id ? 1 : -1));
  for (const c of live) {
    // The days since the record, read first: in a partial fetch the record, its signature and
    // every later record come over in one request.
    const later = await laterRecords(ledger, tip, c.id, now);
    await ledger.prefetch([`${tip}:${c.record}`, `${tip}:${c.record}.sig`], later);
    const files = await ledger.readFiles(tip, [c.record, `${c.record}.sig`]);
    const verified = checkRecord(files.get(c.record), files.get(`${c.record}.sig`), trust, namespace);
    if (!verified.ok) {
      ignored.push({ id: c.id, why: verified.reason });
      continue;
    }
    const r = verified.record;
    const why =
      r.outcome !== "applied"
        ? `record outcome is ${r.outcome}`
        : r.expiresAt && Date.parse(r.expiresAt) <= now.getTime()
          ? "expired"
          : check(r);
    if (why) {
      ignored.push({ id: c.id, why });
      continue;
    }
    // Reverts name the override's id (the intent's, when a result record applied it).
    const ended = await endedBy(ledger, later, c.id);
    if (ended) {
      ignored.push({ id: c.id, why: `ended by ${ended}` });
      continue;
    }
    return { found: { record: r, entry: c }, ignored };
  }
  return { ignored };
}

export async function findWaiver(
  ledger: Ledger,
  tip: string,
  index: { active: IndexEntry[] },
  query: GuardQuery,
  trust: TrustSource,
  namespace: string,
  hasPrincipal: (login: string) => boolean,
): Promise<GuardDecision> {
  const candidates = index.active.filter((e) => (e.op ?? e.type) === "skip" && matchesScope(e, query));
  const { found, ignored } = await findInForce(
    ledger,
    tip,
    candidates,
    (r) =>
      overrideOf(r) !== "skip"
        ? "record is not a skip"
        : r.repo !== query.repo
          ? `record is for ${r.repo}`
          : !matchesScope(r, query)
            ? "record is for another stage or ref"
            : !hasPrincipal(r.requester ?? r.actor.login)
              ? `${r.requester ?? r.actor.login} is no longer allowed to skip ${query.stage}`
              : undefined,
    trust,
    namespace,
    query.now,
  );
  if (found) return { skip: true, record: found.record, path: found.entry.record };
  return { skip: false, why: candidates.length ? "no valid override" : "no override", ignored };
}

/** Blob ids of the records written after `id`, scanning only the days since it. */
async function laterRecords(ledger: Ledger, tip: string, id: string, now: Date): Promise<string[]> {
  const cwd = ledger.cfg.repo.root;
  const days: string[] = [];
  const start = new Date(ulidTime(id));
  start.setUTCHours(0, 0, 0, 0);
  // Bounded: from the record's day to today (one extra for clock skew); a TTL caps this span.
  for (let d = start.getTime(); d <= now.getTime() + 86_400_000; d += 86_400_000) {
    const day = new Date(d);
    days.push(
      `records/${day.getUTCFullYear()}/${String(day.getUTCMonth() + 1).padStart(2, "0")}/${String(day.getUTCDate()).padStart(2, "0")}`,
    );
    if (days.length > 400) break;
  }
  const trees = await readObjects(
    cwd,
    days.map((d) => `${tip}:${d}`),
  );
  const later: string[] = [];
  for (const d of days) {
    const t = trees.get(`${tip}:${d}`);
    if (t?.type !== "tree") continue;
    for (const e of parseTree(t.data, ledger.hashBytes)) {
      if (e.name.endsWith(".json") && e.name.slice(0, -5) > id) later.push(e.oid);
    }
  }
  return later;
}

/** The id of a later record (among `later`, their blob ids) that reverts or expires `id`. */
async function endedBy(ledger: Ledger, later: string[], id: string): Promise<string | undefined> {
  const blobs = await readObjects(ledger.cfg.repo.root, later);
  for (const b of blobs.values()) {
    try {
      const rec = JSON.parse(b.data.toString("utf8")) as LedgerRecord;
      // A revert/expire record, applied directly or through its result, ends the override.
      if (rec.links?.reverts === id && (rec.outcome === "applied" || rec.outcome === "intent")) return rec.id;
    } catch {
      // An unreadable later record cannot vouch for anything; verify reports it.
    }
  }
  return undefined;
}
