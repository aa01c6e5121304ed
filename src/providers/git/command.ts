/**
 * Runs the policy's rollout/failover `command` (plain git provider): an argv array with
 * placeholders replaced inside each argument, run by execa without a shell, so a reason or an
 * artifact containing spaces, quotes, `;` or `$(…)` reaches the command as one literal argument.
 */
import { FailedError } from "../../errors.js";

export function fillPlaceholders(argv: readonly string[], values: Record<string, string>): string[] {
  // One pass per argument with a callback: a value containing "{env}" is never expanded again.
  return argv.map((arg) => arg.replace(/\{(\w+)\}/g, (m, k: string) => (k in values ? values[k]! : m)));
}

export interface CommandOutcome {
  exitCode: number;
  /** Stopped at the time limit (SIGTERM, then SIGKILL after the grace period). */
  timedOut: boolean;
  /** Stopped because optout was interrupted. */
  canceled: boolean;
  /** The signal that ended it, when one did. */
  signal: string | undefined;
}

/** How long a stopped command has between SIGTERM and SIGKILL to leave things tidy. */
export const killGraceMs = 5_000;

export async function runCommand(
  argv: readonly string[],
  options: {
    cwd: string;
    env: Record<string, string | undefined>;
    label: string;
    output: (chunk: string) => void;
    signal?: AbortSignal | undefined;
    /** `--timeout`: stop the command after this long. */
    timeoutMs?: number | undefined;
  },
): Promise<CommandOutcome> {
  const [file, ...args] = argv;
  if (!file) throw new FailedError(`${options.label}: the command is empty`);
  const { execa } = await import("execa");
  const child = execa(file, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    shell: false,
    reject: false,
    stdin: "ignore",
    all: true,
    buffer: false,
    // Ctrl-C and the time limit stop the command too: SIGTERM, then SIGKILL if it lingers; the
    // flow records the outcome as unknown, since the command may have done part of its work.
    ...(options.signal ? { cancelSignal: options.signal } : {}),
    ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
    killSignal: "SIGTERM",
    forceKillAfterDelay: killGraceMs,
  });
  // Stream the command's output as it comes (stderr: stdout stays data for --json).
  child.all?.on("data", (b: Buffer) => options.output(b.toString()));
  const r = await child;
  const stopped = r.timedOut || r.isCanceled || r.signal !== undefined;
  if (r.failed && r.exitCode === undefined && !stopped) {
    throw new FailedError(`${options.label}: could not run ${file}: ${r.shortMessage}`);
  }
  return { exitCode: r.exitCode ?? 1, timedOut: r.timedOut, canceled: r.isCanceled, signal: r.signal };
}
