/**
 * Raw policy value → the normalised `Policy` of src/core/policy.ts, or PolicyErrors listing every
 * problem. Order: version, secrets, structure (zod), then rules across entries. Entries that fail
 * the structural check are left out of the rule checks (their problem is already reported), so
 * one broken stage does not hide an undefined group in another.
 */
import type { Policy, Principal, ProviderName } from "../core/policy.js";
import { buildFailover, buildFlag, buildRollout, buildStage } from "./entries.js";
import { addIssues } from "./issues.js";
import { parseGroup, resolvePrincipals } from "./principals.js";
import { type JsonPath, Problems, show } from "./problems.js";
import { builtIn, checkDefaults, ms, type RulesContext } from "./rules.js";
import { type PolicyFile, policyFileSchema } from "./schema.js";
import { findSecrets, SECRET_HINT } from "./secrets.js";
import { isNameMap } from "./walk.js";

export interface NormalizeOptions {
  /** Absolute path of the file. */
  file: string;
  /** The file as the user would recognise it, for messages. */
  display: string;
  /** Prepended to every JSON path (`["optout"]` for package.json#optout). */
  pathPrefix?: JsonPath;
  /** `--provider` / `--repo`: they win over the file's. */
  provider?: ProviderName;
  repo?: string;
}

type RawObject = Record<string, unknown>;

function isObject(v: unknown): v is RawObject {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function names(v: unknown): Set<string> {
  return new Set(isObject(v) ? Object.keys(v) : []);
}

/**
 * The parts of an invalid file that are valid on their own: each top-level key, and each entry
 * of a name map, kept only when it passes its own schema.
 */
function salvage(raw: RawObject): PolicyFile {
  const kept: RawObject = { version: 1 };
  for (const [key, schema] of Object.entries(policyFileSchema.shape)) {
    if (key === "version" || raw[key] === undefined) continue;
    if (schema.safeParse(raw[key]).success) {
      kept[key] = raw[key];
    } else if (key === "groups" || key === "stages" || key === "flags") {
      const record = policyFileSchema.shape[key].unwrap();
      const entries = Object.entries(isObject(raw[key]) ? raw[key] : {}).filter(
        ([name, value]) =>
          record.keyType.safeParse(name).success && record.valueType.safeParse(value).success,
      );
      kept[key] = Object.fromEntries(entries);
    }
  }
  const result = policyFileSchema.safeParse(kept);
  return result.success ? result.data : policyFileSchema.parse({ version: 1 });
}

function effectiveProvider(raw: RawObject, opts: NormalizeOptions): ProviderName | undefined {
  if (opts.provider) return opts.provider;
  if (raw.provider === undefined) return "git";
  const parsed = policyFileSchema.shape.provider.safeParse(raw.provider);
  // An invalid provider is reported once; provider-dependent rules are skipped rather than
  // checked against a guess.
  return parsed.success ? parsed.data : undefined;
}

export function normalizePolicy(raw: unknown, opts: NormalizeOptions): Policy {
  const problems = new Problems(opts.pathPrefix);
  if (raw === undefined || raw === null) {
    // YAML with nothing but comments.
    problems.add(
      [],
      "the file is empty",
      'start from { "version": 1 } (`optout init` writes a complete one)',
    );
    throw problems.toError(opts.display);
  }
  if (!isObject(raw)) {
    const got = Array.isArray(raw) ? "a list" : `a ${typeof raw}`;
    problems.add(
      [],
      `the policy must be an object, not ${got}`,
      'start from { "version": 1 } (`optout init` writes a complete one)',
    );
    throw problems.toError(opts.display);
  }
  if (raw.version === undefined) {
    problems.add(["version"], "missing; this optout reads version 1", 'add "version": 1');
  } else if (raw.version !== 1) {
    // A newer format means the rest cannot be read with these rules: report only this.
    problems.add(
      ["version"],
      `unsupported version ${typeof raw.version === "number" ? raw.version : show(raw.version)}; this optout reads version 1`,
      "upgrade optout, or write the file for version 1",
    );
    throw problems.toError(opts.display);
  }
  for (const f of findSecrets(raw, (path) => isNameMap(raw, path)))
    problems.addSecret(f.path, f.message, SECRET_HINT);

  const parsed = policyFileSchema.safeParse(raw);
  if (!parsed.success) {
    // The version was checked above, with a better message.
    addIssues(
      problems,
      parsed.error.issues.filter((issue) => issue.path[0] !== "version"),
      raw,
    );
  }
  const data = parsed.success ? parsed.data : salvage(raw);
  const provider = effectiveProvider(raw, opts);
  const fromFlag = opts.provider !== undefined && opts.provider !== raw.provider;
  const ctx: RulesContext = {
    problems,
    provider,
    providerLabel: `provider ${provider}${fromFlag ? " (from --provider)" : ""}`,
    defaults: data.defaults ?? {},
    defaultsValid: raw.defaults === undefined || data.defaults !== undefined,
    groups: {},
    groupNames: names(raw.groups),
  };
  const policy = build(data, ctx, names(raw.stages), opts);
  problems.throwIfAny(opts.display);
  return policy;
}

function build(data: PolicyFile, ctx: RulesContext, stageNames: Set<string>, opts: NormalizeOptions): Policy {
  const groups: Record<string, Principal[]> = {};
  for (const [name, list] of Object.entries(data.groups ?? {})) {
    groups[name] = parseGroup(list, ["groups", name], ctx.groupNames, ctx);
  }
  ctx.groups = groups;
  checkDefaults(ctx);

  const repo = opts.repo ?? data.repo;
  if (!opts.repo && data.repo && ctx.provider === "github" && data.repo.split("/").length !== 2) {
    ctx.problems.add(["repo"], 'must be "owner/name" on GitHub');
  }
  const policy: Policy = {
    file: opts.file,
    version: 1,
    provider: ctx.provider ?? "git",
    github: data.github?.apiUrl ? { apiUrl: data.github.apiUrl } : {},
    gitlab: data.gitlab?.url ? { url: data.gitlab.url } : {},
    audit: data.audit,
    groups,
    stages: Object.fromEntries(Object.entries(data.stages ?? {}).map(([n, s]) => [n, buildStage(n, s, ctx)])),
    flags: Object.fromEntries(Object.entries(data.flags ?? {}).map(([n, f]) => [n, buildFlag(n, f, ctx)])),
    notify: data.notify ?? [],
    signers: data.signers ?? {},
    review: {
      configured: data.review !== undefined,
      required: data.review?.required ?? false,
      withinMs: data.review?.within ? ms(data.review.within) : builtIn.reviewWithinMs,
      allowSelf: data.review?.allowSelf ?? false,
    },
  };
  if (repo) policy.repo = repo;
  if (data.rollout) policy.rollout = buildRollout(data.rollout, stageNames, ctx);
  if (data.failover) policy.failover = buildFailover(data.failover, ctx);
  if (data.pin) policy.pin = data.pin;
  if (data.review?.allow) {
    policy.review.allow = resolvePrincipals(
      data.review.allow,
      ["review", "allow"],
      groups,
      ctx.groupNames,
      ctx,
    );
  }
  return policy;
}
