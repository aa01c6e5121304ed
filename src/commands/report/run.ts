/** `optout report`: override figures over a window, for a terminal, a script or a document. */
import { parseTimeOrAgo } from "../../core/duration.js";
import { computeReport, type ReportDimension, reportDimensions, spansOf } from "../../core/report.js";
import { UsageError } from "../../errors.js";
import type { Factory } from "../../factory.js";
import { paint } from "../../ui/paint.js";
import type { OptionsOf } from "../define.js";
import { glyphsFor } from "./cells.js";
import { type reportCommand, reportFormats } from "./command.js";
import { renderMarkdown } from "./markdown.js";
import { renderText } from "./text.js";

export type ReportCommandOptions = OptionsOf<typeof reportCommand>;

export async function runReport(f: Factory, o: ReportCommandOptions): Promise<void> {
  const now = f.now();
  const since = parseTimeOrAgo(o.since ?? "30d", now, "--since");
  const until = o.until ? parseTimeOrAgo(o.until, now, "--until") : now;
  if (since.getTime() > until.getTime()) {
    throw new UsageError(`--since (${since.toISOString()}) is after --until (${until.toISOString()})`);
  }
  const by = o.by ?? "type";
  if (!(reportDimensions as readonly string[]).includes(by)) {
    throw new UsageError(`--by "${by}" is not one of ${reportDimensions.join(", ")}`);
  }
  const format = o.format ?? "text";
  if (!(reportFormats as readonly string[]).includes(format)) {
    throw new UsageError(`--format "${format}" is not one of ${reportFormats.join(", ")}`);
  }
  if (f.io.json && format === "markdown") {
    throw new UsageError("--json and --format markdown are two outputs; pick one");
  }
  const [{ records }, { ev }] = await Promise.all([f.records(), f.evaluation()]);
  const report = computeReport(records, {
    since,
    until,
    now,
    by: by as ReportDimension,
    spans: spansOf(ev, now),
  });
  if (f.io.json) f.io.printJson(report);
  else if (format === "markdown") f.io.out(renderMarkdown(report));
  else f.io.out(renderText(report, await paint(f.io), glyphsFor(f.env)));
}
