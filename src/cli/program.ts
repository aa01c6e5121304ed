/**
 * The command tree. Commander only parses argv into typed options; behaviour lives in
 * src/commands/<verb>/run.ts, imported when the command runs. Only commands that work are here.
 */
import type { EventEmitter } from "node:events";
import { Command, Option } from "commander";
import { requirePlain } from "../core/inputs.js";
import { UsageError } from "../errors.js";
import type { Factory, Globals } from "../factory.js";
import { asJson, commandHelp, topicHelp } from "./help-json.js";
import { topics } from "./topics.js";

export type MakeFactory = (globals: Globals) => Promise<Factory>;

type Action = (f: Factory, args: string[], opts: Record<string, unknown>) => Promise<void>;

export interface ProgramOutput {
  writeOut(s: string): void;
  writeErr(s: string): void;
  /** --json was given: help is printed as one JSON document (see cli/help-json.ts). */
  json?: boolean;
}

/**
 * No value typed on the command line may hold a control character: each one ends up in a signed
 * record, in git's arguments or on someone's terminal. Checked once here for every command.
 */
function refuseControls(cmd: Command, args: readonly unknown[], opts: Record<string, unknown>): void {
  cmd.registeredArguments.forEach((a, i) => {
    const v = args[i];
    if (typeof v === "string") requirePlain(v, `<${a.name()}>`);
  });
  const options = [];
  for (let c: Command | null = cmd; c; c = c.parent) options.push(...c.options);
  for (const [key, v] of Object.entries(opts)) {
    if (typeof v !== "string") continue;
    const o = options.find((x) => x.attributeName() === key);
    requirePlain(v, o?.long ?? `--${key}`);
  }
}

export function buildProgram(version: string, makeFactory: MakeFactory, output?: ProgramOutput): Command {
  const program = new Command("optout");
  // Set before any subcommand is added: commander copies these settings into each subcommand
  // when it is created, and errors must reach main.ts as exceptions (exit 2), not exit 1.
  program.exitOverride();
  if (output)
    program.configureOutput({ writeOut: output.writeOut, writeErr: output.writeErr, outputError: () => {} });
  if (output?.json) program.configureHelp({ formatHelp: (cmd) => asJson(commandHelp(cmd)) });
  program
    .description(
      "Emergency overrides for CI/CD pipelines: granular, authorized, signed, announced, reversible.",
    )
    .version(version, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .addOption(
      new Option("--config <path>", "policy file (default: .optoutrc* found from the current directory)"),
    )
    .addOption(
      new Option("--provider <name>", "override the policy's provider").choices(["github", "gitlab", "git"]),
    )
    .addOption(new Option("--repo <repo>", "override the policy's repo (owner/name or group/sub/project)"))
    .option("--json", "one JSON document on stdout; no colour, no spinner")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--dry-run", "print what would be done and change nothing")
    .option("--no-color", "no colour (also NO_COLOR / FORCE_COLOR)")
    .option("-v, --verbose", "debug output on stderr (tokens redacted)")
    .showSuggestionAfterError(true)
    .addHelpCommand(false)
    .addHelpText(
      "after",
      `\nHelp topics:\n  optout help exit-codes    exit codes and what they mean\n  optout help environment   environment variables optout reads\n\nDocs: https://github.com/optout-dev/optout/tree/main/docs`,
    );

  const wire = (cmd: Command, action: Action) =>
    cmd.action(async (...argv: unknown[]) => {
      const self = argv.at(-1) as Command;
      const opts = self.optsWithGlobals() as Record<string, unknown>;
      const args = argv.slice(0, -2).map((a) => a as string);
      refuseControls(self, args, opts);
      const globals: Globals = {
        json: opts.json === true,
        yes: opts.yes === true,
        dryRun: opts.dryRun === true,
        verbose: opts.verbose === true,
        ...(opts.color === false ? { color: false } : {}),
        ...(typeof opts.config === "string" ? { config: opts.config } : {}),
        ...(typeof opts.provider === "string" ? { provider: opts.provider as Globals["provider"] } : {}),
        ...(typeof opts.repo === "string" ? { repo: opts.repo } : {}),
      };
      await action(await makeFactory(globals), args, self.opts());
    });

  program
    .command("help [topic]")
    .description("show help for a command or topic (exit-codes, environment)")
    .action((topic: string | undefined) => {
      const page = topic ? topics[topic] : undefined;
      const write = output?.writeOut ?? ((t: string) => process.stdout.write(t));
      if (page) write(output?.json ? asJson(topicHelp(topic!)) : page());
      else if (topic) {
        const sub = program.commands.find((c) => c.name() === topic);
        if (sub) sub.outputHelp();
        else {
          throw new UsageError(`unknown help topic or command "${topic}"`, {
            hint: `topics: ${Object.keys(topics).join(", ")}; or a command name`,
          });
        }
      } else program.outputHelp();
    });

  wire(
    program
      .command("skip <stage>")
      .description("waive one pipeline stage for one ref or commit")
      .option("--reason <text>", "why (required; the policy sets a minimum length)")
      .option("--ref <ref>", "branch or tag the waiver applies to (default: the current branch)")
      .option("--allow-missing-ref", "accept a --ref that does not exist on the remote yet")
      .option("--sha <sha>", "only this commit")
      .option("--ttl <duration>", "how long it lasts (30m, 4h, PT4H; default from the policy)")
      .option("--ticket <id>", "incident or change ticket"),
    async (f, [stage], o) => (await import("../commands/skip/run.js")).runSkip(f, { stage: stage!, ...o }),
  );

  wire(
    program
      .command("guard <stage>")
      .description(
        "for pipelines: exit 0 and print skip when a valid override waives this stage, else exit 1 and print run",
      )
      .option("--ref <ref>", "ref to check (default: from CI variables, else the current branch)")
      .option("--sha <sha>", "commit to check (default: from CI variables, else HEAD)")
      .option(
        "--strict",
        "with review.required: run the stage while earlier skips of it are overdue for review",
      )
      .addOption(
        new Option("--format <format>", "output format")
          .choices(["plain", "github", "gitlab"])
          .default("plain"),
      ),
    async (f, [stage], o) => (await import("../commands/guard/run.js")).runGuard(f, { stage: stage!, ...o }),
  );

  const flag = program.command("flag").description("deploy flags declared in the policy");
  wire(
    flag
      .command("set [name] [value]")
      .description("set a declared deploy flag")
      .option("--env <environment>", "one of the flag's environments")
      .option("--reason <text>", "why (required)")
      .option("--ttl <duration>", "how long it lasts (default from the policy)")
      .option("--ticket <id>", "incident or change ticket"),
    async (f, [name, value], o) =>
      (await import("../commands/flag/run.js")).runFlagSet(f, {
        ...o,
        ...(name ? { name } : {}),
        ...(value !== undefined ? { value } : {}),
      }),
  );
  wire(
    flag
      .command("unset <name>")
      .description("remove a flag override (restores the previous value if there was one)")
      .option("--env <environment>", "one of the flag's environments")
      .option("--reason <text>", "why (required)")
      .option("--ticket <id>", "incident or change ticket"),
    async (f, [name], o) => (await import("../commands/flag/run.js")).runFlagUnset(f, { ...o, name: name! }),
  );
  wire(
    flag
      .command("list")
      .description("declared flags and their values in force")
      .option("--env <environment>", "only this environment")
      .addOption(
        new Option("--format <format>", "output format")
          .choices(["table", "json", "dotenv"])
          .default("table"),
      ),
    async (f, _a, o) => (await import("../commands/flag/run.js")).runFlagList(f, o),
  );
  wire(
    flag
      .command("get <name>")
      .description("the flag's value in force, alone on stdout (exit 1 when unset)")
      .option("--env <environment>", "one of the flag's environments"),
    async (f, [name], o) => (await import("../commands/flag/run.js")).runFlagGet(f, { ...o, name: name! }),
  );

  wire(
    program
      .command("rollout")
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
      ),
    async (f, _a, o) => (await import("../commands/rollout/run.js")).runRollout(f, o),
  );

  wire(
    program
      .command("failover")
      .description(
        "switch the active target (region, cluster) by the policy's failover path; --show prints it",
      )
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
      .option("--show", "print the active target (exit 1 when none is recorded)"),
    async (f, _a, o) => (await import("../commands/failover/run.js")).runFailover(f, o),
  );

  wire(
    program
      .command("approve <request-id>")
      .description("approve a pending request; the last required approval applies it")
      .option("--reason <text>", "a note for the record"),
    async (f, [id], o) =>
      (await import("../commands/approve/run.js")).runApproveCommand(f, { ...o, id: id! }),
  );
  wire(
    program
      .command("reject <request-id>")
      .description("reject a pending request (the requester may withdraw their own)")
      .option("--reason <text>", "why (required)"),
    async (f, [id], o) => (await import("../commands/approve/run.js")).runRejectCommand(f, { ...o, id: id! }),
  );

  wire(
    program.command("status").description("active overrides, pending requests and unfinished operations"),
    async (f) => (await import("../commands/status/run.js")).runStatus(f),
  );

  wire(
    program
      .command("revert <id>")
      .description("undo one override: restore the state recorded before it")
      .option("--reason <text>", "why it is being reverted"),
    async (f, [id], o) => (await import("../commands/revert/run.js")).runRevert(f, { id: id!, ...o }),
  );

  wire(
    program
      .command("expire")
      .description("end every override whose TTL has passed (for a scheduled job); idempotent")
      .option("--now <time>", "treat this ISO 8601 time as now"),
    async (f, _a, o) => (await import("../commands/expire/run.js")).runExpire(f, o),
  );

  wire(
    program
      .command("log")
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
      ),
    async (f, _a, o) => (await import("../commands/log/run.js")).runLog(f, o),
  );

  wire(
    program
      .command("sync")
      .description(
        "push ledger records and send notifications kept locally, and settle operations left half-done by reading their real state",
      )
      .option(
        "--settle-after <duration>",
        "settle an unfinished operation not known to run here after this long",
        "1h",
      ),
    async (f, _a, o) => (await import("../commands/sync/run.js")).runSync(f, o),
  );

  const auth = program.command("auth").description("identity");
  wire(
    auth
      .command("status")
      .description("who you are, where that comes from (never the token), what the policy lets you do"),
    async (f) => (await import("../commands/auth/run.js")).runAuthStatus(f),
  );

  wire(
    program
      .command("doctor")
      .description(
        "check git, the policy, remote, allowed signers, signing key and audit branch; advise on branch protection",
      ),
    async (f) => (await import("../commands/doctor/run.js")).runDoctor(f),
  );

  wire(
    program.command("completion <shell>").description("print a shell completion script (bash, zsh, fish)"),
    async (f, [shell]) => (await import("../commands/completion/run.js")).runCompletion(f, shell),
  );

  const notify = program.command("notify").description("notification channels");
  wire(
    notify
      .command("test")
      .description("send a test event to every configured channel and report each result"),
    async (f) => (await import("../commands/notify/run.js")).runNotifyTest(f),
  );

  const policy = program.command("policy").description("the policy file");
  wire(
    policy
      .command("check")
      .description("validate the policy file (every problem, one per line)")
      .option("--pinned", "also fail (exit 3) when it differs from the copy on the default branch"),
    async (f, _a, o) => (await import("../commands/policy/check.js")).runPolicyCheck(f, o),
  );

  wire(
    program
      .command("init")
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
      ),
    async (f, _a, o) => (await import("../commands/init/run.js")).runInit(f, o),
  );

  wire(
    program
      .command("review <id>")
      .description("record a signed post-incident review of an override (active or ended)")
      .addOption(
        new Option("--verdict <verdict>", "what the review concluded").choices([
          "justified",
          "unjustified",
          "needs-follow-up",
        ]),
      )
      .option("--note <text>", "what the review found (required)")
      .option("--ticket <id>", "follow-up or incident ticket"),
    async (f, [id], o) => (await import("../commands/review/run.js")).runReviewCommand(f, { ...o, id: id! }),
  );

  wire(
    program
      .command("report")
      .description("how often, how long and by whom overrides were used; the stages waived most")
      .option("--since <when>", "overrides applied after this (30d, 24h, or an ISO 8601 time)", "30d")
      .option("--until <when>", "overrides applied before this (default: now)")
      .addOption(
        new Option("--by <dimension>", "one table row per")
          .choices(["stage", "actor", "type", "env"])
          .default("type"),
      )
      .addOption(
        new Option("--format <format>", "text for a terminal, markdown for a document (or --json)")
          .choices(["text", "markdown"])
          .default("text"),
      ),
    async (f, _a, o) => (await import("../commands/report/run.js")).runReport(f, o),
  );

  // Text added around the help (addHelpText) would break the one JSON document --json promises.
  if (output?.json) {
    const quiet = (c: Command) => {
      // A Command is an EventEmitter at run time; commander's types leave that out.
      const events = c as unknown as EventEmitter;
      for (const e of ["beforeAllHelp", "beforeHelp", "afterHelp", "afterAllHelp"])
        events.removeAllListeners(e);
      c.commands.forEach(quiet);
    };
    quiet(program);
  }
  return program;
}
