/** `optout review <id> --verdict … --note …`: a signed post-incident review of one override. */

import { entryRules } from "../../core/policy.js";
import { findOverride, isVerdict, runReview, verdicts } from "../../core/review.js";
import type { Factory } from "../../factory.js";
import { paint } from "../../ui/paint.js";
import { inertLine } from "../../ui/text.js";
import type { OptionsOf } from "../define.js";
import { describeEntry } from "../rules.js";
import { choose } from "../shared.js";
import type { reviewCommand } from "./command.js";

export type ReviewOptions = { id: string } & OptionsOf<typeof reviewCommand>;

async function askNote(f: Factory): Promise<string | undefined> {
  if (!f.io.canPrompt) return undefined;
  return f.prompter.input(
    "Review note:",
    undefined,
    (v) => v.trim().length > 0 || "say what the review found",
  );
}

export async function runReviewCommand(f: Factory, o: ReviewOptions): Promise<void> {
  const [policy, deps] = await Promise.all([f.policy(), f.flowDeps()]);
  // Only records that count: a forged or unsigned one is not there to be reviewed.
  const { records } = await f.records();
  const override = findOverride(records, o.id);
  const entry = { op: override.type, type: override.type, target: override.target };
  const verdict =
    o.verdict ?? (f.io.canPrompt ? await choose(f, "Verdict", verdicts, "--verdict") : undefined);
  // No prompt for a note after a bad verdict: runReview refuses it first.
  const note = o.note ?? (isVerdict(verdict) ? await askNote(f) : undefined);
  const pattern = entryRules(policy, entry.op, entry.target)?.ticket.pattern;
  const result = await runReview(deps, {
    override,
    history: records,
    verdict,
    note,
    ticket: o.ticket,
    settings: policy.review,
    ...(pattern ? { ticketPattern: pattern } : {}),
  });
  const what = describeEntry(entry);
  if (f.io.json) {
    f.io.printJson({
      id: result.record.id,
      type: "review",
      status: result.status,
      override: override.id,
      verdict: result.verdict,
      record: result.record,
      earlier: result.earlier.map((r) => ({ id: r.id, actor: r.actor.login, verdict: r.verdict })),
    });
    return;
  }
  const p = await paint(f.io);
  if (result.status === "dry-run") {
    f.io.out(`${p.bold("dry run")}: nothing was changed. It would:`);
    f.io.out(`  record review ${result.record.id} of ${what} (${override.id}): ${result.verdict}`);
    return;
  }
  f.io.out(`${p.green("✓")} reviewed ${inertLine(what)} ${p.dim(`(${override.id})`)}: ${result.verdict}`);
  f.io.out(`  note     ${inertLine(result.record.reason ?? "")}`);
  f.io.out(`  by       ${inertLine(result.record.actor.login)}`);
  if (result.record.ticket) f.io.out(`  ticket   ${inertLine(result.record.ticket)}`);
  for (const r of result.earlier) f.io.out(`  earlier  ${inertLine(r.actor.login)}: ${r.verdict} (${r.id})`);
}
