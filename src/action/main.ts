/**
 * The GitHub Action (action.yml): `optout guard` as a step, with no install. Its answer is the
 * step output `skip` ("true" or "false"), and the step succeeds either way: a job puts
 * `if: steps.<id>.outputs.skip != 'true'` on the steps that do the stage's work.
 *
 * guard itself writes `skip` (--format github). When guard fails (exit 2 or more) the stage must
 * run (fail closed): this writes skip=false and a warning, and the step still succeeds.
 * Bundled into action/ by scripts/build.mjs (guard's code only: see cli/guard-run.ts); this file
 * only maps the runner's environment.
 */
import { appendFileSync } from "node:fs";
import { parseGuard } from "../cli/guard-fast.js";
import { runFastGuard } from "../cli/guard-run.js";
import { Interrupt } from "../core/interrupt.js";
import { OptoutError } from "../errors.js";
import { IO } from "../ui/io.js";
import { actionRun } from "./inputs.js";

/** A workflow command's message: GitHub reads %, CR and LF as escapes. */
const commandData = (s: string) => s.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");

function failClosed(env: NodeJS.ProcessEnv, why: string): void {
  process.stdout.write(`::warning::${commandData(why)}\n`);
  if (env.GITHUB_OUTPUT) appendFileSync(env.GITHUB_OUTPUT, "skip=false\n");
}

async function action(env: NodeJS.ProcessEnv): Promise<void> {
  let a: ReturnType<typeof actionRun>;
  try {
    a = actionRun(env, process.cwd());
  } catch (e) {
    const message = e instanceof OptoutError && e.hint ? `${e.message} (${e.hint})` : String(e);
    failClosed(env, `optout guard: ${message}; the stage runs (fail closed)`);
    return;
  }
  const fast = parseGuard(a.argv);
  if (!fast) {
    failClosed(
      env,
      `optout guard: cannot read the inputs as guard's options; running ${a.stage} (fail closed)`,
    );
    return;
  }
  // A cancelled job: stop at once, ended by the signal itself, as a process without a handler
  // would be (the runner marks the step cancelled). The exit code is src/main.ts's alone to set.
  let received: NodeJS.Signals = "SIGTERM";
  const interrupt = new Interrupt(() => {
    process.removeAllListeners(received);
    process.kill(process.pid, received);
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      received = signal;
      interrupt.fire();
    });
  }
  const streams = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
  const io = new IO(streams, env, fast.globals);
  const code = await runFastGuard(fast, io, { streams, env, cwd: a.cwd }, interrupt);
  io.endProgress();
  if (code > 1) failClosed(env, `optout guard failed (exit ${code}); running ${a.stage} (fail closed)`);
}

await action(process.env);
process.exitCode = 0;
