/**
 * Each verb's command line is defined once, in `<verb>/command.ts`, with commander's typed
 * builder: the options its run function receives are the type that definition infers. A flag
 * renamed in the definition but not where run.ts reads it fails the typecheck.
 */
import type { Command, OptionValues } from "@commander-js/extra-typings";

// biome-ignore lint/suspicious/noExplicitAny: any command, whatever its arguments and options
type AnyCommand = Command<any[], OptionValues, any>;

/**
 * The options a verb's definition parses, as its run function receives them. Each may be absent
 * (a run function is also called directly, by tests and by other commands, and then decides its
 * own defaults) and a boolean flag may be false.
 */
export type OptionsOf<F extends () => AnyCommand> = {
  [K in keyof ReturnType<ReturnType<F>["opts"]>]?:
    | ReturnType<ReturnType<F>["opts"]>[K]
    | (true extends ReturnType<ReturnType<F>["opts"]>[K] ? false : never);
};

/**
 * A flag as plain data, for the command lines parsed both by commander and, without it, by
 * cli/guard-fast.ts: the global options and guard's own. One list, two parsers.
 */
export interface FlagSpec {
  /** As commander writes it: "-y, --yes", "--ref <ref>", "--no-color". */
  flags: string;
  description: string;
  choices?: readonly string[];
  default?: string;
}
