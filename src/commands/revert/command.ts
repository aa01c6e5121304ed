import { Command } from "@commander-js/extra-typings";

export const revertCommand = () =>
  new Command("revert")
    .description("undo one override: restore the state recorded before it")
    .argument("<id>")
    .option("--reason <text>", "why it is being reverted");
