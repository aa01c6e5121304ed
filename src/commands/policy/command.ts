import { Command } from "@commander-js/extra-typings";

export const policyCheckCommand = () =>
  new Command("check")
    .description("validate the policy file (every problem, one per line)")
    .option("--pinned", "also fail (exit 3) when it differs from the copy on the default branch");
