/**
 * The rules every overridable entry carries (allow, approvals, ttl, maxTtl, reason, ticket), with
 * the precedence entry value > `defaults` > built-in default.
 */
import { parseDurationMs } from "../core/duration.js";
import { type Approvals, builtInRules, type EntryRules, type Principal } from "../core/policy.js";
import { type PrincipalContext, resolvePrincipals } from "./principals.js";
import type { JsonPath } from "./problems.js";
import { show } from "./problems.js";
import type { DefaultsFile, EntryFile } from "./schema.js";

export const builtIn = builtInRules;

/** Durations were checked by the schema; this only converts. */
export function ms(text: string): number {
  return parseDurationMs(text)!;
}

interface Limit {
  ms: number;
  text: string;
  /** Where an inherited value comes from, for messages; empty for the entry's own. */
  from: string;
}

export interface RulesContext extends PrincipalContext {
  defaults: DefaultsFile;
  /**
   * False when `defaults` itself is invalid (already reported): TTLs are then not compared, since
   * a maxTtl the file meant to raise would be missing and every long ttl would look wrong.
   */
  defaultsValid: boolean;
  groups: Readonly<Record<string, Principal[]>>;
  groupNames: ReadonlySet<string>;
}

export type EntryKind = "stage" | "flag" | "rollout" | "failover";

function inheritedMaxTtl(defaults: DefaultsFile): Limit {
  return defaults.maxTtl
    ? { ms: ms(defaults.maxTtl), text: defaults.maxTtl, from: " (from defaults.maxTtl)" }
    : { ms: builtIn.maxTtlMs, text: "24h", from: " (the built-in maximum)" };
}

/** `defaults.ttl` against the maxTtl in force at that level. */
export function checkDefaults(ctx: RulesContext): void {
  const { defaults } = ctx;
  const max = inheritedMaxTtl(defaults);
  if (defaults.ttl && ms(defaults.ttl) > max.ms) {
    ctx.problems.add(["defaults", "ttl"], `ttl ${defaults.ttl} is longer than maxTtl ${max.text}${max.from}`);
  }
}

/**
 * An explicit ttl above the maxTtl in force is an error. An inherited default ttl is capped at a
 * tighter maxTtl the entry sets (docs/policy.md's example: `"e2e": { "maxTtl": "2h" }` under a 4h
 * default), because the entry's author plainly meant "at most 2h", not "broken".
 */
function ttlRules(entry: EntryFile, path: JsonPath, kind: EntryKind, ctx: RulesContext) {
  const max: Limit = entry.maxTtl
    ? { ms: ms(entry.maxTtl), text: entry.maxTtl, from: "" }
    : inheritedMaxTtl(ctx.defaults);
  let ttlMs: number | null = null;
  if (entry.ttl) {
    ttlMs = ms(entry.ttl);
    if (ttlMs > max.ms && ctx.defaultsValid)
      ctx.problems.add([...path, "ttl"], `ttl ${entry.ttl} is longer than maxTtl ${max.text}${max.from}`);
  } else if (kind === "stage" || kind === "flag") {
    // Rollouts and failovers are reverted, not expired: no TTL unless they set one.
    const inherited = ctx.defaults.ttl ? ms(ctx.defaults.ttl) : builtIn.ttlMs;
    ttlMs = Math.min(inherited, max.ms);
  }
  return { ttlMs, maxTtlMs: max.ms };
}

/**
 * `environments` are the entry's own (rollout, flag, failover); undefined when it has none, in
 * which case `approvals.environments` has nothing to narrow.
 */
function approvalRules(
  entry: EntryFile,
  path: JsonPath,
  environments: readonly string[] | undefined,
  ctx: RulesContext,
): Approvals | undefined {
  const a = entry.approvals;
  if (!a) return undefined;
  const fromPath = [...path, "approvals", "from"];
  const before = ctx.problems.size;
  const from = resolvePrincipals(a.from, fromPath, ctx.groups, ctx.groupNames, ctx);
  // Only a list of users has a size known without asking the forge; teams and roles do not.
  const complete = ctx.problems.size === before;
  if (complete && from.every((p) => p.kind === "user") && a.required > from.length) {
    const people = from.length === 1 ? "1 person" : `${from.length} people`;
    ctx.problems.add(
      [...path, "approvals", "required"],
      `${a.required} approvals required, but approvals.from names only ${people}`,
      "the requester never counts, so such a request could never be approved",
    );
  }
  const out: Approvals = {
    required: a.required,
    from,
    timeoutMs: a.timeout ? ms(a.timeout) : builtIn.approvalTimeoutMs,
  };
  if (a.environments) {
    const envPath = [...path, "approvals", "environments"];
    if (!environments) {
      ctx.problems.add(
        envPath,
        `this ${kindLabel(path)} has no environments to narrow`,
        'remove it, or declare "environments"',
      );
    } else {
      a.environments.forEach((env, i) => {
        if (!environments.includes(env)) {
          ctx.problems.add(
            [...envPath, i],
            `${show(env)} is not one of its environments (${environments.join(", ")})`,
          );
        }
      });
    }
    out.environments = a.environments;
  }
  return out;
}

function kindLabel(path: JsonPath): string {
  return path[0] === "stages" ? "stage" : path[0] === "flags" ? "flag" : String(path[0]);
}

/** Every rule of one entry with defaults applied. */
export function entryRules(
  entry: EntryFile,
  path: JsonPath,
  kind: EntryKind,
  environments: readonly string[] | undefined,
  ctx: RulesContext,
): EntryRules {
  const { defaults } = ctx;
  const pattern = entry.ticket?.pattern ?? defaults.ticket?.pattern;
  const rules: EntryRules = {
    allow: resolvePrincipals(entry.allow, [...path, "allow"], ctx.groups, ctx.groupNames, ctx),
    ...ttlRules(entry, path, kind, ctx),
    reasonMinLength: entry.reason?.minLength ?? defaults.reason?.minLength ?? builtIn.reasonMinLength,
    ticket: {
      required: entry.ticket?.required ?? defaults.ticket?.required ?? false,
      ...(pattern === undefined ? {} : { pattern: new RegExp(pattern) }),
    },
  };
  const approvals = approvalRules(entry, path, environments, ctx);
  if (approvals) rules.approvals = approvals;
  return rules;
}

/** Reports the second and later occurrence of each value in a list. */
export function checkDuplicates(
  list: readonly string[] | undefined,
  path: JsonPath,
  ctx: RulesContext,
): void {
  const seen = new Set<string>();
  list?.forEach((item, i) => {
    if (seen.has(item)) ctx.problems.add([...path, i], `${show(item)} is listed twice`);
    seen.add(item);
  });
}
