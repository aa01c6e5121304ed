import { Command } from "@commander-js/extra-typings";

export const logCommand = () =>
  new Command("log")
    .description("the ledger, newest first; --verify checks every signature and the chain")
    .option("--since <when>", "only records after this (7d, 24h, or an ISO 8601 time)")
    .option("--until <when>", "only records before this")
    .option("--type <type>", "only this record type (skip, revert, deny, …)")
    .option("--stage <stage>", "only records about this stage")
    .option("--actor <login>", "only records by this actor")
    .option("--limit <n>", "at most this many records")
    .option("--ndjson", "one JSON record per line")
    .option("--unreviewed", "only applied overrides nobody has reviewed yet, oldest first")
    .option(
      "--verify",
      "verify signatures, hash chain, sequence and history; exit 1 naming the first bad record",
    );
