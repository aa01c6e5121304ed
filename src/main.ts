/**
 * Entry point: builds the Factory, runs the command tree, and maps typed errors to exit codes.
 * This is the only place that ends the process.
 */
import { runFastGuard } from "./cli/guard-run.js";
import { type RunContext, report } from "./cli/report.js";
import { Interrupt } from "./core/interrupt.js";
import { ExitCode } from "./errors.js";
import type { Globals } from "./factory.js";
import { IO } from "./ui/io.js";
import { version } from "./version.js";

export type { RunContext } from "./cli/report.js";

/** Runs one invocation and returns its exit code (tests call this; `main` exits with it). */
export async function run(argv: string[], ctx: RunContext): Promise<number> {
  // Fast path: --version needs nothing but package.json (no commander, no policy).
  const asksVersion = argv.some((a) => a === "--version" || a === "-V");
  if (asksVersion && argv.every((a) => a === "--version" || a === "-V" || a === "--json")) {
    const json = argv.includes("--json");
    ctx.streams.stdout.write(json ? `${JSON.stringify({ version: version() })}\n` : `${version()}\n`);
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
      return await runFastGuard(fast, io, ctx, interrupt);
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
      {
        writeOut: (s) => ctx.streams.stdout.write(s),
        writeErr: (s) => ctx.streams.stderr.write(s),
        json: argv.includes("--json"),
      },
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
