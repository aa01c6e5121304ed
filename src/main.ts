/**
 * Entry point: builds the Factory, runs the command tree, and maps typed errors to exit codes.
 * This is the only place that ends the process.
 */
import type { CommanderError } from "commander";
import { Interrupt } from "./core/interrupt.js";
import { ExitCode, OptoutError, QuietExit } from "./errors.js";
import type { Globals } from "./factory.js";
import { IO, type Streams } from "./ui/io.js";
import { redact } from "./ui/redact.js";
import { version } from "./version.js";

export interface RunContext {
  streams: Streams;
  env: Record<string, string | undefined>;
  cwd: string;
}

/** Runs one invocation and returns its exit code (tests call this; `main` exits with it). */
export async function run(argv: string[], ctx: RunContext): Promise<number> {
  // Fast path: --version needs nothing but package.json (no commander, no policy).
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    ctx.streams.stdout.write(`${version()}\n`);
    return ExitCode.ok;
  }
  let current: IO | undefined;
  const interrupt = new Interrupt(() => {
    current?.endProgress();
    ctx.streams.stderr.write("optout: interrupted\n");
    process.exit(ExitCode.interrupted);
  });
  const onSignal = () => interrupt.fire();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const fast = (await import("./cli/guard-fast.js")).parseGuard(argv);
  if (fast) {
    const io = new IO(ctx.streams, ctx.env, fast.globals);
    current = io;
    try {
      const { Factory } = await import("./factory.js");
      const f = new Factory(fast.globals, io, ctx.env, ctx.cwd, interrupt, !fast.options.strict);
      await (await import("./commands/guard/run.js")).runGuard(f, { stage: fast.stage, ...fast.options });
      return ExitCode.ok;
    } catch (e) {
      return report(e, io, ctx.env);
    } finally {
      io.endProgress();
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  }
  let io = new IO(ctx.streams, ctx.env, {
    json: argv.includes("--json"),
    yes: false,
    verbose: argv.includes("--verbose") || argv.includes("-v"),
  });
  current = io;
  let factory: import("./factory.js").Factory | undefined;
  try {
    const { buildProgram } = await import("./cli/program.js");
    const { Factory } = await import("./factory.js");
    const program = buildProgram(
      version(),
      async (globals: Globals) => {
        io = new IO(ctx.streams, ctx.env, globals);
        current = io;
        factory = new Factory(globals, io, ctx.env, ctx.cwd, interrupt);
        return factory;
      },
      { writeOut: (s) => ctx.streams.stdout.write(s), writeErr: (s) => ctx.streams.stderr.write(s) },
    );
    await program.parseAsync(argv, { from: "user" });
    let code: number = ExitCode.ok;
    if (factory?.undelivered.length) {
      const channels = [...new Set(factory.undelivered)].join(", ");
      io.err(`optout: done, but the notification to ${channels} failed; it is kept locally`);
      io.err("hint: run `optout sync` to send it once the channel works again");
      code = ExitCode.partial;
    }
    if (interrupt.interrupted) {
      // Ctrl-C came while a record was reaching the remote, and it did: the command is done.
      io.err("optout: interrupted (Ctrl-C), but too late to stop it: what is printed above was done");
      code = ExitCode.interrupted;
    }
    return code;
  } catch (e) {
    return report(e, io, ctx.env);
  } finally {
    io.endProgress();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function isCommanderError(e: unknown): e is CommanderError {
  return (
    e instanceof Error &&
    typeof (e as CommanderError).code === "string" &&
    (e as CommanderError).code.startsWith("commander.")
  );
}

function report(e: unknown, io: IO, env: Record<string, string | undefined>): number {
  if (isCommanderError(e)) {
    if (
      e.code === "commander.helpDisplayed" ||
      e.code === "commander.version" ||
      e.code === "commander.help"
    ) {
      return ExitCode.ok;
    }
    const msg = e.message.replace(/^error: /, "");
    io.err(`optout: ${msg}`);
    io.err("hint: run `optout --help` (or `optout <command> --help`) for usage");
    if (io.json) io.printJson({ error: { code: ExitCode.usage, message: msg } });
    return ExitCode.usage;
  }
  if (e instanceof QuietExit) return e.exitCode;
  if (e instanceof OptoutError) {
    const message = redact(e.message, env);
    io.err(`optout: ${message}`);
    if (e.hint) io.err(`hint: ${redact(e.hint, env)}`);
    if (io.verbose && e.stack) io.err(redact(e.stack, env));
    if (io.json) {
      io.printJson({
        ...(e.data ?? {}),
        error: { code: e.exitCode, message, ...(e.hint ? { hint: redact(e.hint, env) } : {}) },
      });
    }
    return e.exitCode;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  io.err(`optout: unexpected error: ${redact(err.message, env)}`);
  if (io.verbose) io.err(redact(err.stack ?? "", env));
  else io.err("hint: run with --verbose for details");
  if (io.json) io.printJson({ error: { code: ExitCode.failed, message: redact(err.message, env) } });
  return ExitCode.failed;
}

/**
 * A reader that goes away (`optout log --json | head`, `optout failover … 2>&1 | head -1`) must
 * not stop an operation halfway: writes to a closed stdout or stderr are dropped and the command
 * runs to its end, records and all. (A read-only command merely finishes printing into nothing.)
 */
function tolerateClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE" || e.code === "ERR_STREAM_DESTROYED") return;
    throw e;
  });
}

export async function main(argv: string[]): Promise<void> {
  tolerateClosedPipe(process.stdout);
  tolerateClosedPipe(process.stderr);
  const code = await run(argv, {
    streams: { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin },
    env: process.env,
    cwd: process.cwd(),
  });
  // Let stdout drain before exiting: piping `optout log --json | jq` must get everything.
  process.exitCode = code;
  if (code !== 0) {
    process.stdout.write("", () => process.exit(code));
  }
}
