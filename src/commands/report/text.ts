/**
 * The report for a terminal: a few summary lines, then aligned tables with a bar per row.
 * Everything fits 80 columns (a pasted report must not wrap in an incident channel either), and
 * in ASCII mode no character outside ASCII is printed.
 */
import { formatDuration } from "../../core/duration.js";
import type { Figures, Report } from "../../core/report.js";
import { verdicts } from "../../core/review.js";
import type { Paint } from "../../ui/paint.js";
import { bar, type Column, clip, type Glyphs, layout, userText } from "./cells.js";

export const maxWidth = 80;
const barCells = 12;

export function percent(share: number | null): string {
  return share === null ? "-" : `${Math.round(share * 100)}%`;
}

export function duration(ms: number | null): string {
  return ms === null ? "-" : formatDuration(Math.round(ms));
}

/** "2026-05-01 18:03Z": minutes are enough to place a window. */
function minute(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}Z`;
}

function summary(t: Figures, g: Glyphs): string[][] {
  const e = t.endings;
  const r = t.reviews;
  const longest = t.activeTime.longestId ? ` (${t.activeTime.longestId})` : "";
  const verdictText = verdicts.map((v) => `${r.latestVerdicts[v]} ${v}`).join(", ");
  const rows: string[][] = [
    ["overrides", `${t.overrides}`],
    [
      "active time",
      `median ${duration(t.activeTime.medianMsAppliedToEnd)}, longest ${duration(t.activeTime.longestMsAppliedToEnd)}${longest}`,
    ],
    [
      "ended",
      `${e.ended}: ${e.revertedEarly} reverted early (${percent(e.revertedEarlyShareOfEnded)}), ${e.expired} expired (${percent(e.expiredShareOfEnded)}), ${e.superseded} superseded`,
    ],
    ["still active", `${e.stillActive}`],
    ["reviewed", `${r.reviewed} of ${t.overrides} (${percent(r.reviewedShare)})`],
    ["verdicts", r.reviewed ? verdictText : "-"],
  ];
  return rows.map(([k, v]) => [k!, clip(v!, maxWidth - 2 - 14, g)]);
}

export function renderText(report: Report, p: Paint, glyphs: Glyphs): string {
  const { window: w, total } = report;
  const range = glyphs === "unicode" ? "→" : "to";
  const title = `Overrides applied ${minute(w.since)} ${range} ${minute(w.until)}`;
  const lines: string[] = [p.bold(title)];
  if (total.overrides === 0) {
    lines.push("  none in this window");
    return lines.join("\n");
  }
  const opts = { maxWidth, indent: 2, glyphs, header: p.dim };
  const plain: Column[] = [{ title: "" }, { title: "" }];
  lines.push(...layout(plain, summary(total, glyphs), { maxWidth, indent: 2, glyphs }).slice(1));

  const maxCount = Math.max(...report.groups.map((g) => g.overrides));
  const groupColumns: Column[] = [
    { title: report.by, flexible: true },
    { title: "n", align: "right" },
    { title: "", paint: p.cyan },
    { title: "median", align: "right" },
    { title: "longest", align: "right" },
    { title: "early", align: "right" },
    { title: "expired", align: "right" },
    { title: "reviewed", align: "right" },
  ];
  lines.push("", p.bold(`By ${report.by}`));
  lines.push(
    ...layout(
      groupColumns,
      report.groups.map((g) => [
        userText(g.key, glyphs),
        `${g.overrides}`,
        bar(g.overrides, maxCount, barCells, glyphs),
        duration(g.activeTime.medianMsAppliedToEnd),
        duration(g.activeTime.longestMsAppliedToEnd),
        `${g.endings.revertedEarly}`,
        `${g.endings.expired}`,
        `${g.reviews.reviewed}/${g.overrides}`,
      ]),
      opts,
    ),
  );

  if (report.topReasons.length) {
    const max = report.topReasons[0]!.overrides;
    lines.push("", p.bold("Top reasons"));
    lines.push(
      ...layout(
        [
          { title: "n", align: "right" },
          { title: "", paint: p.cyan },
          { title: "reason", flexible: true },
        ],
        report.topReasons.map((r) => [
          `${r.overrides}`,
          bar(r.overrides, max, barCells, glyphs),
          userText(r.reason, glyphs),
        ]),
        opts,
      ),
    );
  }
  if (report.mostWaivedStages.length) {
    const max = report.mostWaivedStages[0]!.skips;
    lines.push("", p.bold("Most waived stages"));
    lines.push(
      ...layout(
        [
          { title: "stage", flexible: true },
          { title: "skips", align: "right" },
          { title: "", paint: p.cyan },
        ],
        report.mostWaivedStages.map((s) => [
          userText(s.stage, glyphs),
          `${s.skips}`,
          bar(s.skips, max, barCells, glyphs),
        ]),
        opts,
      ),
    );
  }
  lines.push(
    "",
    p.dim("active time: from applied to revert, expire, a newer override, expiresAt or now"),
    p.dim("early: reverted before expiresAt; reviewed: has at least one review record"),
  );
  return lines.join("\n");
}
