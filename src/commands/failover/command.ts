import { Command } from "@commander-js/extra-typings";

export const failoverCommand = () =>
  new Command("failover")
    .description("switch the active target (region, cluster) by the policy's failover path; --show prints it")
    .option("--to <target>", "one of the policy's failover targets")
    .option("--env <environment>", "environment, when the policy has several")
    .option("--reason <text>", "why (required)")
    .option("--wait", "follow the failover run to its end")
    .option(
      "--timeout <duration>",
      "with --wait: give up after this long (plain git: stop the command, outcome recorded as unknown)",
    )
    .option("--ttl <duration>", "fail back automatically after this long")
    .option("--ticket <id>", "incident or change ticket")
    .option("--show", "print the active target (exit 1 when none is recorded)");
