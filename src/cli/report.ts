/**
 * How an invocation ends: a typed error becomes one clear line (and a hint) on stderr, or one
 * JSON document with --json, and its exit code. Shared by the command tree (main.ts), guard's
 * fast path and the GitHub Action.
 */
import type { CommanderError } from "@commander-js/extra-typings";
import { ExitCode, OptoutError, QuietExit } from "../errors.js";
import type { IO, Streams } from "../ui/io.js";
import { redact } from "../ui/redact.js";

export interface RunContext {
  streams: Streams;
  env: Record<string, string | undefined>;
  cwd: string;
}

function isCommanderError(e: unknown): e is CommanderError {
  return (
    e instanceof Error &&
    typeof (e as CommanderError).code === "string" &&
    (e as CommanderError).code.startsWith("commander.")
  );
}

const usageHint = "run `optout --help` (or `optout <command> --help`) for usage";

export function report(e: unknown, io: IO, env: Record<string, string | undefined>): number {
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
    io.err(`hint: ${usageHint}`);
    if (io.json) io.printJson({ error: { code: ExitCode.usage, message: msg, hint: usageHint } });
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
  const fs = fileSystemProblem(e);
  if (fs) {
    io.err(`optout: ${redact(fs.message, env)}`);
    io.err(`hint: ${fs.hint}`);
    if (io.json)
      io.printJson({ error: { code: ExitCode.failed, message: redact(fs.message, env), hint: fs.hint } });
    return ExitCode.failed;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  io.err(`optout: unexpected error: ${redact(err.message, env)}`);
  if (io.verbose) io.err(redact(err.stack ?? "", env));
  else io.err("hint: run with --verbose for details");
  if (io.json) io.printJson({ error: { code: ExitCode.failed, message: redact(err.message, env) } });
  return ExitCode.failed;
}

/** A write the file system refused (full disk, read-only checkout): one line naming the file. */
function fileSystemProblem(e: unknown): { message: string; hint: string } | undefined {
  const err = e as NodeJS.ErrnoException;
  if (!(e instanceof Error) || typeof err.syscall !== "string") return undefined;
  // write() reports no path (only open() does): then the file system is all there is to say.
  const where = err.path ? `: cannot write ${err.path}` : "";
  const after = "then run `optout status` to see what was recorded, and run the command again if it is not";
  switch (err.code) {
    case "ENOSPC":
    case "EDQUOT":
      return {
        message: `the disk is full (${err.code})${where}`,
        hint: `free some space, ${after}`,
      };
    case "EROFS":
      return {
        message: `the file system is read-only (EROFS)${where}`,
        hint: `run optout from a writable clone, ${after}`,
      };
    case "EACCES":
    case "EPERM":
      return {
        message: `permission denied (${err.code})${where}`,
        hint: `check who owns the clone's .git directory, ${after}`,
      };
    default:
      return undefined;
  }
}
