/**
 * The command tree. Each verb's command line is defined next to its behaviour, in
 * src/commands/<verb>/command.ts (typed: the options a run function reads are the ones its
 * definition parses); this file assembles them, adds the global options (cli/options.ts) and
 * imports each run.ts only when its command runs. Only commands that work are here.
 */
import type { EventEmitter } from "node:events";
import { Command, type CommandUnknownOpts, Option, type OptionValues } from "@commander-js/extra-typings";
import { approveCommand, rejectCommand } from "../commands/approve/command.js";
import { authStatusCommand } from "../commands/auth/command.js";
import { completionCommand } from "../commands/completion/command.js";
import type { FlagSpec } from "../commands/define.js";
import { doctorCommand } from "../commands/doctor/command.js";
import { expireCommand } from "../commands/expire/command.js";
import { failoverCommand } from "../commands/failover/command.js";
import {
  flagGetCommand,
  flagListCommand,
  flagSetCommand,
  flagUnsetCommand,
} from "../commands/flag/command.js";
import { guardDescription, guardFlags } from "../commands/guard/command.js";
import { initCommand } from "../commands/init/command.js";
import { logCommand } from "../commands/log/command.js";
import { notifyTestCommand } from "../commands/notify/command.js";
import { policyCheckCommand } from "../commands/policy/command.js";
import { reportCommand } from "../commands/report/command.js";
import { revertCommand } from "../commands/revert/command.js";
import { reviewCommand } from "../commands/review/command.js";
import { rolloutCommand } from "../commands/rollout/command.js";
import { skipCommand } from "../commands/skip/command.js";
import { statusCommand } from "../commands/status/command.js";
import { syncCommand } from "../commands/sync/command.js";
import { requirePlain } from "../core/inputs.js";
import { UsageError } from "../errors.js";
import type { Factory, Globals } from "../factory.js";
import { OPTOUT_REPOSITORY } from "../version.js";
import { guardOptions } from "./guard-fast.js";
import { asJson, commandHelp, topicHelp } from "./help-json.js";
import { globalFlags, toGlobals } from "./options.js";
import { topics } from "./topics.js";

export type MakeFactory = (globals: Globals) => Promise<Factory>;

/**
 * Called instead of a command's run function, with what it would have received (as gh's `runF`):
 * tests parse a command line in process and look at the typed input.
 */
export type RunF = (command: string, input: unknown, globals: Globals) => void | Promise<void>;

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
function refuseControls(cmd: CommandUnknownOpts, args: readonly unknown[], opts: OptionValues): void {
  cmd.registeredArguments.forEach((a, i) => {
    const v = args[i];
    if (typeof v === "string") requirePlain(v, `<${a.name()}>`);
  });
  const options = [];
  for (let c: CommandUnknownOpts | null = cmd; c; c = c.parent) options.push(...c.options);
  for (const [key, v] of Object.entries(opts)) {
    if (typeof v !== "string") continue;
    const o = options.find((x) => x.attributeName() === key);
    requirePlain(v, o?.long ?? `--${key}`);
  }
}

function flagOption(spec: FlagSpec): Option {
  const o = new Option(spec.flags, spec.description);
  if (spec.choices) o.choices(spec.choices);
  if (spec.default !== undefined) o.default(spec.default);
  return o as Option;
}

function commandPath(cmd: CommandUnknownOpts): string {
  const names: string[] = [];
  for (let c: CommandUnknownOpts | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

export function buildProgram(
  version: string,
  makeFactory: MakeFactory,
  output?: ProgramOutput,
  runF?: RunF,
): CommandUnknownOpts {
  const program = new Command("optout");
  // Set before any subcommand is added: each subcommand copies these settings (exitOverride,
  // output, help) from its parent, and errors must reach main.ts as exceptions (exit 2), not exit 1.
  program.exitOverride();
  if (output)
    program.configureOutput({ writeOut: output.writeOut, writeErr: output.writeErr, outputError: () => {} });
  if (output?.json) program.configureHelp({ formatHelp: (cmd) => asJson(commandHelp(cmd)) });
  program
    .description(
      "Emergency overrides for CI/CD pipelines: granular, authorized, signed, announced, reversible.",
    )
    .version(version, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help");
  for (const spec of Object.values(globalFlags)) program.addOption(flagOption(spec));
  program
    .showSuggestionAfterError(true)
    .helpCommand(false)
    .addHelpText(
      "after",
      `\nHelp topics:\n  optout help exit-codes    exit codes and what they mean\n  optout help environment   environment variables optout reads\n\nDocs: https://github.com/${OPTOUT_REPOSITORY.github}/tree/main/docs`,
    );

  /**
   * Adds `cmd` under `parent`: its parsed arguments and options become the run function's input
   * (`toInput`, typed by the definition), after the control-character check.
   */
  const wire = <A extends unknown[], O extends OptionValues, I>(
    parent: CommandUnknownOpts,
    // biome-ignore lint/suspicious/noExplicitAny: the parent's options are read as globals
    cmd: Command<A, O, any>,
    toInput: (args: A, opts: O) => I,
    run: (f: Factory, input: I) => Promise<void>,
  ): void => {
    cmd.copyInheritedSettings(parent);
    cmd.action(async (...argv: unknown[]) => {
      const self = argv.at(-1) as Command<A, O>;
      const args = argv.slice(0, -2) as A;
      const opts = self.opts();
      refuseControls(self, args, self.optsWithGlobals());
      const globals = toGlobals(self.optsWithGlobals());
      const input = toInput(args, opts);
      if (runF) await runF(commandPath(self), input, globals);
      else await run(await makeFactory(globals), input);
    });
    parent.addCommand(cmd);
  };
  /** A command that only groups others (`flag`, `auth`, …). */
  const group = (name: string, description: string): CommandUnknownOpts => {
    const g = new Command(name).description(description).copyInheritedSettings(program);
    program.addCommand(g);
    return g;
  };

  program
    .command("help")
    .argument("[topic]")
    .description("show help for a command or topic (exit-codes, environment)")
    .action((topic) => {
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
    program,
    skipCommand(),
    ([stage], o) => ({ stage, ...o }),
    async (f, o) => (await import("../commands/skip/run.js")).runSkip(f, o),
  );

  const guard = new Command("guard").description(guardDescription).argument("<stage>");
  for (const spec of Object.values(guardFlags)) guard.addOption(flagOption(spec));
  wire(
    program,
    guard,
    ([stage], o) => ({ stage, ...guardOptions(o) }),
    async (f, o) => (await import("../commands/guard/run.js")).runGuard(f, o),
  );

  const flag = group("flag", "deploy flags declared in the policy");
  wire(
    flag,
    flagSetCommand(),
    ([name, value], o) => ({ ...o, ...(name ? { name } : {}), ...(value !== undefined ? { value } : {}) }),
    async (f, o) => (await import("../commands/flag/run.js")).runFlagSet(f, o),
  );
  wire(
    flag,
    flagUnsetCommand(),
    ([name], o) => ({ ...o, name }),
    async (f, o) => (await import("../commands/flag/run.js")).runFlagUnset(f, o),
  );
  wire(
    flag,
    flagListCommand(),
    (_a, o) => o,
    async (f, o) => (await import("../commands/flag/run.js")).runFlagList(f, o),
  );
  wire(
    flag,
    flagGetCommand(),
    ([name], o) => ({ ...o, name }),
    async (f, o) => (await import("../commands/flag/run.js")).runFlagGet(f, o),
  );

  wire(
    program,
    rolloutCommand(),
    (_a, o) => o,
    async (f, o) => (await import("../commands/rollout/run.js")).runRollout(f, o),
  );
  wire(
    program,
    failoverCommand(),
    (_a, o) => o,
    async (f, o) => (await import("../commands/failover/run.js")).runFailover(f, o),
  );
  wire(
    program,
    approveCommand(),
    ([id], o) => ({ ...o, id }),
    async (f, o) => (await import("../commands/approve/run.js")).runApproveCommand(f, o),
  );
  wire(
    program,
    rejectCommand(),
    ([id], o) => ({ ...o, id }),
    async (f, o) => (await import("../commands/approve/run.js")).runRejectCommand(f, o),
  );
  wire(
    program,
    statusCommand(),
    () => ({}),
    async (f) => (await import("../commands/status/run.js")).runStatus(f),
  );
  wire(
    program,
    revertCommand(),
    ([id], o) => ({ id, ...o }),
    async (f, o) => (await import("../commands/revert/run.js")).runRevert(f, o),
  );
  wire(
    program,
    expireCommand(),
    (_a, o) => o,
    async (f, o) => (await import("../commands/expire/run.js")).runExpire(f, o),
  );
  wire(
    program,
    logCommand(),
    (_a, o) => o,
    async (f, o) => (await import("../commands/log/run.js")).runLog(f, o),
  );
  wire(
    program,
    syncCommand(),
    (_a, o) => o,
    async (f, o) => (await import("../commands/sync/run.js")).runSync(f, o),
  );

  const auth = group("auth", "identity");
  wire(
    auth,
    authStatusCommand(),
    () => ({}),
    async (f) => (await import("../commands/auth/run.js")).runAuthStatus(f),
  );

  wire(
    program,
    doctorCommand(),
    () => ({}),
    async (f) => (await import("../commands/doctor/run.js")).runDoctor(f),
  );
  wire(
    program,
    completionCommand(),
    ([shell]) => ({ shell }),
    async (f, o) => (await import("../commands/completion/run.js")).runCompletion(f, o.shell, program),
  );

  const notify = group("notify", "notification channels");
  wire(
    notify,
    notifyTestCommand(),
    () => ({}),
    async (f) => (await import("../commands/notify/run.js")).runNotifyTest(f),
  );

  const policy = group("policy", "the policy file");
  wire(
    policy,
    policyCheckCommand(),
    (_a, o) => o,
    async (f, o) => (await import("../commands/policy/check.js")).runPolicyCheck(f, o),
  );

  wire(
    program,
    initCommand(),
    (_a, o) => o,
    async (f, o) => (await import("../commands/init/run.js")).runInit(f, o),
  );
  wire(
    program,
    reviewCommand(),
    ([id], o) => ({ ...o, id }),
    async (f, o) => (await import("../commands/review/run.js")).runReviewCommand(f, o),
  );
  wire(
    program,
    reportCommand(),
    (_a, o) => o,
    async (f, o) => (await import("../commands/report/run.js")).runReport(f, o),
  );

  // Text added around the help (addHelpText) would break the one JSON document --json promises.
  if (output?.json) {
    const quiet = (c: CommandUnknownOpts) => {
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
