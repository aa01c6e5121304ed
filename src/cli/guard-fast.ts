/**
 * `optout guard` skips commander: it runs in every pipeline job, and the command tree costs
 * startup it does not need. node:util parses exactly guard's flags; anything unusual (help, an
 * unknown flag, a bad choice) returns undefined and main.ts takes the full path, which explains
 * the problem the usual way.
 */
import { parseArgs } from "node:util";
import type { Globals } from "../factory.js";

export interface FastGuard {
  globals: Globals;
  stage: string;
  options: { ref?: string; sha?: string; format: string; strict?: boolean };
}

export function parseGuard(argv: readonly string[]): FastGuard | undefined {
  if (argv[0] !== "guard") return undefined;
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv.slice(1));
  } catch {
    return undefined;
  }
  const { values: v, positionals } = parsed;
  if (v.help || positionals.length !== 1) return undefined;
  const format = v.format ?? "plain";
  if (!["plain", "github", "gitlab"].includes(format)) return undefined;
  if (v.provider !== undefined && !["github", "gitlab", "git"].includes(v.provider)) return undefined;
  return {
    stage: positionals[0]!,
    options: {
      format,
      ...(v.ref ? { ref: v.ref } : {}),
      ...(v.sha ? { sha: v.sha } : {}),
      ...(v.strict ? { strict: true } : {}),
    },
    globals: {
      json: !!v.json,
      yes: !!v.yes,
      dryRun: !!v["dry-run"],
      verbose: !!v.verbose,
      ...(v["no-color"] ? { color: false } : {}),
      ...(v.config ? { config: v.config } : {}),
      ...(v.provider ? { provider: v.provider as Globals["provider"] } : {}),
      ...(v.repo ? { repo: v.repo } : {}),
    },
  };
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      ref: { type: "string" },
      sha: { type: "string" },
      format: { type: "string" },
      strict: { type: "boolean" },
      config: { type: "string" },
      provider: { type: "string" },
      repo: { type: "string" },
      json: { type: "boolean" },
      yes: { type: "boolean", short: "y" },
      "dry-run": { type: "boolean" },
      verbose: { type: "boolean", short: "v" },
      "no-color": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}
