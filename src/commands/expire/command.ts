import { Command } from "@commander-js/extra-typings";

export const expireCommand = () =>
  new Command("expire")
    .description("end every override whose TTL has passed (for a scheduled job); idempotent")
    .option("--now <time>", "treat this ISO 8601 time as now");
