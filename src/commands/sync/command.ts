import { Command } from "@commander-js/extra-typings";

export const syncCommand = () =>
  new Command("sync")
    .description(
      "push ledger records and send notifications kept locally, and settle operations left half-done by reading their real state",
    )
    .option(
      "--settle-after <duration>",
      "settle an unfinished operation not known to run here after this long",
      "1h",
    );
