import { Command } from "@commander-js/extra-typings";

export const rolloutCommand = () =>
  new Command("rollout")
    .description("artifact-only deploy: run the policy's rollout with an already-built artifact")
    .option("--artifact <ref>", "digest-pinned artifact (must match the policy's artifact.pattern)")
    .option("--env <environment>", "target environment")
    .option("--reason <text>", "why (required)")
    .option("--skip <stages>", "comma list of stages to skip (only those the policy marks skippable)")
    .option("--wait", "follow the rollout to its end")
    .option(
      "--timeout <duration>",
      "with --wait: give up after this long (plain git: stop the command, outcome recorded as unknown)",
    )
    .option("--ttl <duration>", "make the rollout expire (rollouts do not expire by default)")
    .option("--ticket <id>", "incident or change ticket")
    .option(
      "--previous [deployment]",
      "roll back without a rebuild: run the previous successful deployment (or the one named) again",
    );
