import { Command } from "@commander-js/extra-typings";

export const skipCommand = () =>
  new Command("skip")
    .description("waive one pipeline stage for one ref or commit")
    .argument("<stage>")
    .option("--reason <text>", "why (required; the policy sets a minimum length)")
    .option("--ref <ref>", "branch or tag the waiver applies to (default: the current branch)")
    .option("--allow-missing-ref", "accept a --ref that does not exist on the remote yet")
    .option("--sha <sha>", "only this commit")
    .option("--ttl <duration>", "how long it lasts (30m, 4h, PT4H; default from the policy)")
    .option("--ticket <id>", "incident or change ticket");
