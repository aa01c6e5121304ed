/**
 * guard's flags as data: cli/program.ts builds the commander command from them, and
 * cli/guard-fast.ts (which runs in every pipeline job, without commander) parses the same list.
 */
import type { FlagSpec } from "../define.js";
import type { GuardOptions } from "./run.js";

export const guardFormats = ["plain", "github", "gitlab"] as const;

export const guardDescription =
  "for pipelines: exit 0 and print skip when a valid override waives this stage, else exit 1 and print run";

export const guardFlags = {
  ref: {
    flags: "--ref <ref>",
    description: "ref to check (default: from CI variables, else the current branch)",
  },
  sha: { flags: "--sha <sha>", description: "commit to check (default: from CI variables, else HEAD)" },
  strict: {
    flags: "--strict",
    description: "with review.required: run the stage while earlier skips of it are overdue for review",
  },
  format: {
    flags: "--format <format>",
    description: "output format",
    choices: guardFormats,
    default: "plain",
  },
} satisfies Record<Exclude<keyof GuardOptions, "stage">, FlagSpec>;
