import { Command } from "@commander-js/extra-typings";

export const approveCommand = () =>
  new Command("approve")
    .description("approve a pending request; the last required approval applies it")
    .argument("<request-id>")
    .option("--reason <text>", "a note for the record");

export const rejectCommand = () =>
  new Command("reject")
    .description("reject a pending request (the requester may withdraw their own)")
    .argument("<request-id>")
    .option("--reason <text>", "why (required)");
