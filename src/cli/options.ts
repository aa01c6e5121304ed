/**
 * The options every command takes, as data: cli/program.ts gives them to commander and
 * cli/guard-fast.ts parses them with node:util, so the two command lines cannot drift. This module
 * must stay free of commander (guard's fast path loads it).
 */
import type { ParseArgsConfig } from "node:util";
import type { FlagSpec } from "../commands/define.js";
import { providerNames } from "../core/policy.js";
import type { Globals } from "../factory.js";

/** Keyed by the name commander gives each option's value (`--dry-run` → dryRun, `--no-color` → color). */
export const globalFlags = {
  config: {
    flags: "--config <path>",
    description: "policy file (default: .optoutrc* found from the current directory)",
  },
  provider: {
    flags: "--provider <name>",
    description: "override the policy's provider",
    choices: providerNames,
  },
  repo: {
    flags: "--repo <repo>",
    description: "override the policy's repo (owner/name or group/sub/project)",
  },
  json: { flags: "--json", description: "one JSON document on stdout; no colour, no spinner" },
  yes: { flags: "-y, --yes", description: "do not ask for confirmation" },
  dryRun: { flags: "--dry-run", description: "print what would be done and change nothing" },
  color: { flags: "--no-color", description: "no colour (also NO_COLOR / FORCE_COLOR)" },
  verbose: { flags: "-v, --verbose", description: "debug output on stderr (tokens redacted)" },
} satisfies Record<keyof Globals, FlagSpec>;

/** The Globals from parsed option values keyed as commander keys them (see globalFlags). */
export function toGlobals(o: Record<string, unknown>): Globals {
  return {
    json: o.json === true,
    yes: o.yes === true,
    dryRun: o.dryRun === true,
    verbose: o.verbose === true,
    ...(o.color === false ? { color: false } : {}),
    ...(typeof o.config === "string" ? { config: o.config } : {}),
    ...(typeof o.provider === "string" ? { provider: o.provider as Globals["provider"] } : {}),
    ...(typeof o.repo === "string" ? { repo: o.repo } : {}),
  };
}

const longName = (spec: FlagSpec) => /--([\w-]+)/.exec(spec.flags)![1]!;

/** node:util parseArgs options for these flags, keyed by their long names. */
export function parseArgsOptions(specs: Record<string, FlagSpec>): NonNullable<ParseArgsConfig["options"]> {
  const out: NonNullable<ParseArgsConfig["options"]> = {};
  for (const spec of Object.values(specs)) {
    const short = /^-(\w),/.exec(spec.flags)?.[1];
    out[longName(spec)] = {
      type: /[<[]/.test(spec.flags) ? "string" : "boolean",
      ...(short ? { short } : {}),
    };
  }
  return out;
}

/**
 * parseArgs values (keyed by long name) as commander would hold them (keyed by `specs`' keys,
 * `--no-x` as x: false); undefined when a value is not one of its flag's choices.
 */
export function asCommanderValues(
  values: Record<string, unknown>,
  specs: Record<string, FlagSpec>,
): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const long = longName(spec);
    const v = values[long] ?? spec.default;
    if (v === undefined) continue;
    if (spec.choices && !spec.choices.includes(String(v))) return undefined;
    out[key] = long.startsWith("no-") ? !v : v;
  }
  return out;
}
