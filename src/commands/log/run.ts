import { parseTimeOrAgo } from "../../core/duration.js";
import { type LedgerRecord, recordTypes } from "../../core/record.js";
import { ExitCode, QuietExit, UsageError, VerificationError } from "../../errors.js";
import type { Factory } from "../../factory.js";
import { isAncestor } from "../../git/repo.js";
import { readHistory } from "../../ledger/history.js";
import { startVerifying, type VerifyInput, verifyEntries } from "../../ledger/verify.js";
import { nearest } from "../../policy/suggest.js";
import { paint } from "../../ui/paint.js";
import { inertLine } from "../../ui/text.js";
import { describeEntry } from "../rules.js";

export interface LogOptions {
  since?: string;
  until?: string;
  type?: string;
  stage?: string;
  actor?: string;
  limit?: string;
  ndjson?: boolean;
  verify?: boolean;
  unreviewed?: boolean;
}

export async function runLog(f: Factory, o: LogOptions): Promise<void> {
  if (o.type && !(recordTypes as readonly string[]).includes(o.type)) {
    throw new UsageError(`--type ${o.type} is not a record type`, { hint: choices(o.type, recordTypes) });
  }
  const store = await f.ledgerStore();
  const fetched = await store.fetch({ history: true });
  if (!fetched.reachable)
    f.io.err(`optout: warning: cannot reach the remote (${fetched.error}); reading the local copy`);
  const tip = fetched.exists || !fetched.reachable ? await store.localTip() : undefined;
  const verifying = o.verify ? startVerifying((await f.policy()).audit.namespace) : undefined;
  const entries = tip
    ? await readHistory(store.cfg.repo.root, tip, verifying?.onEntry, { signatures: !!verifying })
    : [];
  if (verifying) return verify(f, entries, tip, verifying.verdicts);
  if (o.unreviewed) return (await import("../review/unreviewed.js")).printUnreviewed(f, entries, o);

  const now = f.now();
  const since = o.since ? parseTimeOrAgo(o.since, now, "--since") : undefined;
  const until = o.until ? parseTimeOrAgo(o.until, now, "--until") : undefined;
  const limit = o.limit === undefined ? undefined : Number(o.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new UsageError(`--limit "${o.limit}" is not a positive whole number`);
  }
  const records: LedgerRecord[] = [];
  for (let i = entries.length - 1; i >= 0; i--) {
    const bytes = entries[i]!.recordBytes;
    if (!bytes) continue;
    let r: LedgerRecord;
    try {
      r = JSON.parse(bytes.toString("utf8")) as LedgerRecord;
    } catch {
      continue;
    }
    const t = Date.parse(r.time);
    if (since && t < since.getTime()) continue;
    if (until && t > until.getTime()) continue;
    if (o.type && r.type !== o.type && r.op !== o.type) continue;
    if (o.stage && r.target?.stage !== o.stage) continue;
    if (o.actor && r.actor?.login !== o.actor) continue;
    records.push(r);
    if (limit && records.length >= limit) break;
  }
  if (o.stage && records.length === 0) await requireKnownStage(f, o.stage, entries);
  if (o.ndjson) {
    for (const r of records) f.io.out(JSON.stringify(r));
    return;
  }
  if (f.io.json) {
    f.io.printJson(records);
    return;
  }
  if (records.length === 0) {
    f.io.out(tip ? "no records match" : "the audit branch has no records yet");
    return;
  }
  const p = await paint(f.io);
  for (const r of records) {
    const head = `${r.time.replace("T", " ").replace(/\.\d+Z$/, "Z")}  ${p.cyan(r.type.padEnd(7))} ${inertLine(describeEntry(r))}`;
    f.io.out(`${head}  ${p.dim(`#${r.seq} ${r.id}`)}`);
    const who = `by ${inertLine(r.actor.login)}`;
    const extra = [
      r.outcome !== "applied" ? r.outcome : "",
      r.expiresAt ? `expires ${r.expiresAt}` : "",
      r.links?.reverts ? `ends ${r.links.reverts}` : "",
      r.links?.intent ? `result of ${r.links.intent}` : "",
    ]
      .filter(Boolean)
      .join(", ");
    f.io.out(`    ${who}${extra ? `; ${extra}` : ""}`);
    if (r.reason) f.io.out(`    ${p.dim("reason:")} ${inertLine(r.reason)}`);
    if (typeof r.error === "string") f.io.out(`    ${p.dim("error:")} ${inertLine(r.error)}`);
  }
}

/** "did you mean lint? one of: …": the hint of a filter value that matches nothing there is. */
function choices(given: string, known: Iterable<string>): string {
  const list = [...new Set(known)].sort();
  const near = nearest(given, list);
  return `${near ? `did you mean ${near}? ` : ""}one of: ${list.join(", ")}`;
}

/**
 * A --stage that matched nothing: fine when the stage exists (nothing was waived yet), a typo
 * when neither the policy nor any record knows it — then exit 2 rather than "no records match".
 */
async function requireKnownStage(
  f: Factory,
  stage: string,
  entries: Awaited<ReturnType<typeof readHistory>>,
): Promise<void> {
  const known = new Set(Object.keys((await f.policy()).stages));
  for (const e of entries) {
    if (known.has(stage)) return;
    try {
      const s = (JSON.parse(e.recordBytes?.toString("utf8") ?? "{}") as LedgerRecord).target?.stage;
      if (s) known.add(s);
    } catch {
      // an unreadable record names no stage; verify reports it
    }
  }
  if (known.has(stage)) return;
  throw new UsageError(`--stage ${stage} is not a stage of the policy or of any record`, {
    hint: choices(stage, known),
  });
}

async function verify(
  f: Factory,
  entries: Awaited<ReturnType<typeof readHistory>>,
  tip: string | undefined,
  verdicts: VerifyInput["verdicts"],
) {
  const [store, trust, policy] = await Promise.all([f.ledgerStore(), f.trust(), f.policy()]);
  const anchorCommit = await store.readAnchor();
  const anchor = anchorCommit
    ? {
        commit: anchorCommit,
        isAncestor: !!tip && (await isAncestor(store.cfg.repo.root, anchorCommit, tip)),
      }
    : undefined;
  const report = await verifyEntries({
    entries,
    ...(verdicts ? { verdicts } : {}),
    signers: trust.signers,
    namespace: policy.audit.namespace,
    ...(anchor ? { anchor } : {}),
  });
  const anchorProblem = report.ok && tip ? await store.writeAnchor(tip) : undefined;
  if (anchorProblem) {
    f.io.err(
      `optout: warning: ${anchorProblem}: this clone will not remember the verified tip, so the next verify cannot tell whether history was rewritten since`,
    );
  }
  if (f.io.json) {
    f.io.printJson(report);
    if (!report.ok) throw new QuietExit(ExitCode.failed);
    return;
  }
  if (report.ok) {
    f.io.out(
      `verified ${report.records} record(s): signatures (allowed_signers from ${trust.branch}), hash chain, sequence and history intact${tip ? `; tip ${tip.slice(0, 12)}` : ""}`,
    );
    return;
  }
  const first = report.problems[0]!;
  const name =
    first.seq !== null
      ? `record #${first.seq} ${first.id} (${first.path})`
      : `commit ${first.commit.slice(0, 12)}`;
  const more = report.problems.length - 1;
  const error = new VerificationError(`verification failed at ${name}: ${first.problem}`, {
    hint:
      more > 0
        ? `${more} more problem(s); --json lists them all`
        : "the ledger was altered after it was written",
  });
  throw error;
}
