import { Command, Option } from "@commander-js/extra-typings";

export const flagListFormats = ["table", "json", "dotenv"] as const;

export const flagSetCommand = () =>
  new Command("set")
    .description("set a declared deploy flag")
    .argument("[name]")
    .argument("[value]")
    .option("--env <environment>", "one of the flag's environments")
    .option("--reason <text>", "why (required)")
    .option("--ttl <duration>", "how long it lasts (default from the policy)")
    .option("--ticket <id>", "incident or change ticket");

export const flagUnsetCommand = () =>
  new Command("unset")
    .description("remove a flag override (restores the previous value if there was one)")
    .argument("<name>")
    .option("--env <environment>", "one of the flag's environments")
    .option("--reason <text>", "why (required)")
    .option("--ticket <id>", "incident or change ticket");

export const flagListCommand = () =>
  new Command("list")
    .description("declared flags and their values in force")
    .option("--env <environment>", "only this environment")
    .addOption(new Option("--format <format>", "output format").choices(flagListFormats).default("table"));

export const flagGetCommand = () =>
  new Command("get")
    .description("the flag's value in force, alone on stdout (exit 1 when unset)")
    .argument("<name>")
    .option("--env <environment>", "one of the flag's environments");
