/**
 * `optout guard` skips commander: it runs in every pipeline job, and the command tree costs
 * startup it does not need. node:util parses exactly guard's flags, from the same lists commander
 * gets (cli/options.ts, commands/guard/command.ts); anything unusual (help, an unknown flag, a bad
 * choice) returns undefined and main.ts takes the full path, which explains the problem the usual way.
 */
import { parseArgs } from "node:util";
import { guardFlags } from "../commands/guard/command.js";
import type { GuardOptions } from "../commands/guard/run.js";
import type { Globals } from "../factory.js";
import { asCommanderValues, globalFlags, parseArgsOptions, toGlobals } from "./options.js";

export interface FastGuard {
  globals: Globals;
  stage: string;
  options: Omit<GuardOptions, "stage">;
}

/** guard's options from its parsed flags (keyed as in guardFlags); program.ts uses it too. */
export function guardOptions(o: Record<string, unknown>): Omit<GuardOptions, "stage"> {
  return {
    format: typeof o.format === "string" ? o.format : "plain",
    ...(typeof o.ref === "string" && o.ref ? { ref: o.ref } : {}),
    ...(typeof o.sha === "string" && o.sha ? { sha: o.sha } : {}),
    ...(o.strict === true ? { strict: true } : {}),
  };
}

export function parseGuard(argv: readonly string[]): FastGuard | undefined {
  if (argv[0] !== "guard") return undefined;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv.slice(1),
      allowPositionals: true,
      strict: true,
      options: {
        ...parseArgsOptions(guardFlags),
        ...parseArgsOptions(globalFlags),
        help: { type: "boolean", short: "h" },
      },
    });
  } catch {
    return undefined;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length !== 1) return undefined;
  const guard = asCommanderValues(values, guardFlags);
  const globals = asCommanderValues(values, globalFlags);
  if (!guard || !globals) return undefined;
  return { stage: positionals[0]!, options: guardOptions(guard), globals: toGlobals(globals) };
}
