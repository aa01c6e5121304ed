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
}

export async function runCommand(
  argv: readonly string[],
  options: {
    cwd: string;
    env: Record<string, string | undefined>;
    label: string;
    output: (chunk: string) => void;
    signal?: AbortSignal | undefined;
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
    // Ctrl-C stops the command too (SIGTERM); the flow records that it was interrupted.
    ...(options.signal ? { cancelSignal: options.signal } : {}),
  });
  // Stream the command's output as it comes (stderr: stdout stays data for --json).
  child.all?.on("data", (b: Buffer) => options.output(b.toString()));
  const r = await child;
  if (r.failed && r.exitCode === undefined) {
    throw new FailedError(`${options.label}: could not run ${file}: ${r.shortMessage}`);
  }
  return { exitCode: r.exitCode ?? 1 };
}
