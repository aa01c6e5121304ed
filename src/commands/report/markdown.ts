/**
 * The report as GitHub-flavoured markdown, to paste into a post-incident document: the same
 * figures as `--json`, as tables. Text from records is escaped so a reason cannot break a table
 * or inject markup.
 */
import type { Figures, Report } from "../../core/report.js";
import { verdicts } from "../../core/review.js";
import { inertLine } from "../../ui/text.js";
import { duration, percent } from "./text.js";

/** One table cell: no line breaks, pipes escaped, HTML shown as text. */
export function cell(s: string): string {
  return inertLine(s)
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/`/g, "\\`")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

function table(head: string[], align: ("l" | "r")[], rows: string[][]): string[] {
  return [
    `| ${head.join(" | ")} |`,
    `| ${align.map((a) => (a === "r" ? "---:" : "---")).join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
}

function summaryRows(t: Figures): string[][] {
  const e = t.endings;
  const r = t.reviews;
  return [
    ["overrides", `${t.overrides}`],
    ["active time, median (applied to end)", duration(t.activeTime.medianMsAppliedToEnd)],
    [
      "active time, longest (applied to end)",
      `${duration(t.activeTime.longestMsAppliedToEnd)}${t.activeTime.longestId ? ` (\`${t.activeTime.longestId}\`)` : ""}`,
    ],
    ["reverted early", `${e.revertedEarly} of ${e.ended} ended (${percent(e.revertedEarlyShareOfEnded)})`],
    ["expired", `${e.expired} of ${e.ended} ended (${percent(e.expiredShareOfEnded)})`],
    ["superseded", `${e.superseded}`],
    ["still active", `${e.stillActive}`],
    ["reviewed", `${r.reviewed} of ${t.overrides} (${percent(r.reviewedShare)})`],
    ["latest verdicts", verdicts.map((v) => `${v} ${r.latestVerdicts[v]}`).join(", ")],
  ];
}

export function renderMarkdown(report: Report): string {
  const w = report.window;
  const out: string[] = [`## Overrides applied ${w.since} to ${w.until}`, ""];
  out.push(...table(["figure", "value"], ["l", "l"], summaryRows(report.total)), "");
  out.push(`### By ${report.by}`, "");
  out.push(
    ...table(
      [report.by, "overrides", "median active", "longest active", "reverted early", "expired", "reviewed"],
      ["l", "r", "r", "r", "r", "r", "r"],
      report.groups.map((g) => [
        cell(g.key),
        `${g.overrides}`,
        duration(g.activeTime.medianMsAppliedToEnd),
        duration(g.activeTime.longestMsAppliedToEnd),
        `${g.endings.revertedEarly}`,
        `${g.endings.expired}`,
        `${g.reviews.reviewed} of ${g.overrides}`,
      ]),
    ),
    "",
  );
  if (report.topReasons.length) {
    out.push("### Top reasons", "");
    out.push(
      ...table(
        ["reason", "overrides"],
        ["l", "r"],
        report.topReasons.map((r) => [cell(r.reason), `${r.overrides}`]),
      ),
      "",
    );
  }
  if (report.mostWaivedStages.length) {
    out.push("### Most waived stages", "");
    out.push(
      ...table(
        ["stage", "skips"],
        ["l", "r"],
        report.mostWaivedStages.map((s) => [cell(s.stage), `${s.skips}`]),
      ),
      "",
    );
  }
  out.push(
    "_Active time runs from when an override was applied to the earliest of its revert, expiry, a newer override of the same scope, its `expiresAt`, or now. Reverted early: before `expiresAt`; shares are of the overrides that ended. Verdicts count each override's latest review._",
  );
  return out.join("\n");
}
