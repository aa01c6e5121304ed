import { Command, Option } from "@commander-js/extra-typings";
import { reportDimensions } from "../../core/record.js";

export const reportFormats = ["text", "markdown"] as const;

export const reportCommand = () =>
  new Command("report")
    .description("how often, how long and by whom overrides were used; the stages waived most")
    .option("--since <when>", "overrides applied after this (30d, 24h, or an ISO 8601 time)", "30d")
    .option("--until <when>", "overrides applied before this (default: now)")
    .addOption(new Option("--by <dimension>", "one table row per").choices(reportDimensions).default("type"))
    .addOption(
      new Option("--format <format>", "text for a terminal, markdown for a document (or --json)")
        .choices(reportFormats)
        .default("text"),
    );
