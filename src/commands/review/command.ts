import { Command, Option } from "@commander-js/extra-typings";
import { verdicts } from "../../core/record.js";

export const reviewCommand = () =>
  new Command("review")
    .description("record a signed post-incident review of an override (active or ended)")
    .argument("<id>")
    .addOption(new Option("--verdict <verdict>", "what the review concluded").choices(verdicts))
    .option("--note <text>", "what the review found (required)")
    .option("--ticket <id>", "follow-up or incident ticket");
