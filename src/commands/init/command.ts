import { Command } from "@commander-js/extra-typings";

export const initCommand = () =>
  new Command("init")
    .description(
      "write .optoutrc.json and .optout/allowed_signers; print the pipeline files for guard and expire",
    )
    .option("--stages <names>", "comma list of stages to make overridable (default: lint)")
    .option("--principal <name>", "who you are: your forge login, or your key's name in allowed_signers")
    .option("--write", "write the pipeline files too, instead of printing them")
    .option("--force", "replace files that exist and differ (allowed_signers only gets your key appended)")
    .addHelpText(
      "after",
      "\nAlso: --provider github|gitlab|git (default: from the origin remote, then CI variables),\n-y/--yes (ask nothing: defaults and flags), --dry-run, --json.",
    );
