import { parseTimeOrAgo } from "../../core/duration.js";
import { type LedgerRecord, recordTypes } from "../../core/record.js";
import { ExitCode, QuietExit, UsageError, VerificationError } from "../../errors.js";
import type { Factory } from "../../factory.js";
import { isAncestor } from "../../git/repo.js";
import { verifyReport } from "../../ledger/verify.js";
import { nearest } from "../../policy/suggest.js";
import { paint } from "../../ui/paint.js";
import { inertLine } from "../../ui/text.js";
import type { OptionsOf } from "../define.js";
import { describeEntry } from "../rules.js";
import type { logCommand } from "./command.js";

export type LogOptions = OptionsOf<typeof logCommand>;

export async function runLog(f: Factory, o: LogOptions): Promise<void> {
  if (o.verify) return verify(f);
  if (o.unreviewed) return (await import("../review/unreviewed.js")).printUnreviewed(f, o);
  const now = f.now();
  const since = o.since ? parseTimeOrAgo(o.since, now, "--since") : undefined;
  const until = o.until ? parseTimeOrAgo(o.until, now, "--until") : undefined;
  const limit = o.limit === undefined ? undefined : Number(o.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new UsageError(`--limit "${o.limit}" is not a positive whole number`);
  }
  if (o.type && !(recordTypes as readonly string[]).includes(o.type)) {
    throw new UsageError(`--type ${o.type} is not a record type`, { hint: choices(o.type, recordTypes) });
  }
  const { tip, ev } = await f.evaluation();
  // What the policy in force gives no effect is shown as such; junk is not shown at all.
  const noEffect = new Map(
    ev.alerts.filter((a) => a.kind === "unauthorized" && a.id).map((a) => [a.id!, a.problem]),
  );
  const records: LedgerRecord[] = [];
  for (let i = ev.valid.length - 1; i >= 0; i--) {
    const r = ev.valid[i]!.record;
    const t = Date.parse(r.time);
    if (since && t < since.getTime()) continue;
    if (until && t > until.getTime()) continue;
    if (o.type && r.type !== o.type && r.op !== o.type) continue;
    if (o.stage && r.target?.stage !== o.stage) continue;
    if (o.actor && r.actor?.login !== o.actor) continue;
    records.push(r);
    if (limit && records.length >= limit) break;
  }
  if (o.stage && records.length === 0)
    await requireKnownStage(
      f,
      o.stage,
      ev.valid.map((v) => v.record),
    );
  const junk = ev.alerts.filter((a) => a.kind === "junk").length;
  if (junk)
    f.io.err(
      `optout: warning: ${junk} commit(s) on the audit branch do not count and are not shown: optout log --verify`,
    );
  if (o.ndjson) {
    for (const r of records) f.io.out(JSON.stringify(r));
    return;
  }
  if (f.io.json) {
    f.io.printJson({ records });
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
      r.links?.replaces ? `replaces ${r.links.replaces}` : "",
      r.links?.intent ? `result of ${r.links.intent}` : "",
    ]
      .filter(Boolean)
      .join(", ");
    f.io.out(`    ${who}${extra ? `; ${extra}` : ""}`);
    if (r.reason) f.io.out(`    ${p.dim(r.type === "review" ? "note:" : "reason:")} ${inertLine(r.reason)}`);
    if (typeof r.error === "string") f.io.out(`    ${p.dim("error:")} ${inertLine(r.error)}`);
    const why = noEffect.get(r.id);
    if (why) f.io.out(`    ${p.yellow("no effect:")} ${inertLine(why)}`);
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
async function requireKnownStage(f: Factory, stage: string, records: readonly LedgerRecord[]): Promise<void> {
  const known = new Set(Object.keys((await f.policy()).stages));
  for (const r of records) if (r.target?.stage) known.add(r.target.stage);
  if (known.has(stage)) return;
  throw new UsageError(`--stage ${stage} is not a stage of the policy or of any record`, {
    hint: choices(stage, known),
  });
}

async function verify(f: Factory) {
  const [store, trust, { tip, ev }] = await Promise.all([f.ledgerStore(), f.trust(), f.evaluation()]);
  const anchorCommit = await store.local.readAnchor();
  const anchor = anchorCommit
    ? {
        commit: anchorCommit,
        isAncestor: !!tip && (await isAncestor(store.cfg.repo.root, anchorCommit, tip)),
      }
    : undefined;
  const report = verifyReport(
    ev,
    tip,
    ev.valid.length + ev.alerts.filter((a) => a.kind === "junk").length,
    f.now(),
    anchor,
  );
  const anchorProblem = report.ok && tip ? await store.local.writeAnchor(tip) : undefined;
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
  for (const w of report.warnings) {
    f.io.err(`optout: note: record ${w.id} has no effect under the policy in force: ${inertLine(w.problem)}`);
  }
  if (report.ok) {
    f.io.out(
      `verified ${report.records} record(s): signatures (allowed_signers from ${trust.branch}), identities, hash chain, sequence, times and history intact${tip ? `; tip ${tip.slice(0, 12)}` : ""}`,
    );
    return;
  }
  const where = (pr: (typeof report.problems)[number]) =>
    pr.seq !== null && pr.id
      ? `record #${pr.seq} ${pr.id} (${pr.path ? `${pr.path}, ` : ""}commit ${pr.commit.slice(0, 12)})`
      : `commit ${pr.commit.slice(0, 12)}`;
  for (const pr of report.problems.slice(1)) f.io.err(`optout: also ${where(pr)}: ${inertLine(pr.problem)}`);
  const first = report.problems[0]!;
  const name = where(first);
  const more = report.problems.length - 1;
  throw new VerificationError(`verification failed at ${name}: ${inertLine(first.problem)}`, {
    hint:
      more > 0
        ? `${more} more problem(s) above; records that count after them were verified`
        : "the ledger holds a commit that does not count; the records after it were verified",
  });
}
