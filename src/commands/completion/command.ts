import { Command } from "@commander-js/extra-typings";

export const completionCommand = () =>
  new Command("completion")
    .description("print a shell completion script (bash, zsh, fish)")
    .argument("<shell>");
