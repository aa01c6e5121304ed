/**
 * `optout guard` without the command tree (see guard-fast.ts): the Factory, guard, and its exit
 * code. main.ts runs it for `optout guard …`; the GitHub Action (src/action/main.ts) runs it too,
 * so the Action bundles guard's code and nothing of the other commands.
 */
import type { Interrupt } from "../core/interrupt.js";
import { ExitCode } from "../errors.js";
import type { IO } from "../ui/io.js";
import type { FastGuard } from "./guard-fast.js";
import { type RunContext, report } from "./report.js";

/** guard's exit code; `io` is the caller's (made from fast.globals), to end its progress line. */
export async function runFastGuard(
  fast: FastGuard,
  io: IO,
  ctx: RunContext,
  interrupt: Interrupt,
): Promise<number> {
  try {
    const { Factory } = await import("../factory.js");
    const f = new Factory(fast.globals, io, ctx.env, ctx.cwd, interrupt, !fast.options.strict);
    await (await import("../commands/guard/run.js")).runGuard(f, { stage: fast.stage, ...fast.options });
    return ExitCode.ok;
  } catch (e) {
    return report(e, io, ctx.env);
  }
}
