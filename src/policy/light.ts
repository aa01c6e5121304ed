/**
 * What `optout guard` needs of the policy, read without zod (~100 ms of startup in a command
 * that runs in every pipeline job). Only a JSON policy whose guard-relevant keys are plainly
 * well-formed is read here; anything else — YAML/JS, a syntax error, an odd value — returns
 * undefined and the caller loads the policy fully, which reports problems properly. Validation
 * of the whole file is `optout policy check`'s job; the checks that keep git arguments and paths
 * safe are repeated here (names.ts).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseDurationMs } from "../core/duration.js";
import {
  builtInRules,
  type Policy,
  type Principal,
  type ProviderName,
  type StagePolicy,
} from "../core/policy.js";
import { findPolicyFile } from "./load.js";
import { gitName, mechanismNeedsForge, NAME_PATTERN, REPO_PATTERN, repoPath } from "./names.js";
import { principalFor } from "./principals.js";

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown, fallback: string): string | undefined =>
  v === undefined ? fallback : typeof v === "string" && v !== "" ? v : undefined;

/** A duration's milliseconds, `fallback` when absent, undefined when it is not a positive duration. */
function duration(v: unknown, fallback: number): number | undefined {
  if (v === undefined) return fallback;
  const ms = typeof v === "string" ? parseDurationMs(v) : null;
  return ms !== null && ms > 0 ? ms : undefined;
}

export function loadPolicyLight(opts: {
  cwd: string;
  configPath?: string;
  provider?: ProviderName;
  repo?: string;
}): Policy | undefined {
  const file = opts.configPath ? path.resolve(opts.cwd, opts.configPath) : findPolicyFile(opts.cwd);
  if (!file || !(file.endsWith(".json") || path.basename(file) === ".optoutrc")) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
  if (!isObject(raw) || raw.version !== 1) return undefined;
  const provider = opts.provider ?? (raw.provider === undefined ? "git" : raw.provider);
  if (provider !== "git" && provider !== "github" && provider !== "gitlab") return undefined;
  const audit = isObject(raw.audit) ? raw.audit : raw.audit === undefined ? {} : undefined;
  if (!audit) return undefined;
  const branch = str(audit.branch, "optout/audit");
  const remote = str(audit.remote, "origin");
  const allowedSigners = str(audit.allowedSigners, ".optout/allowed_signers");
  const namespace = str(audit.namespace, "optout-audit");
  if (!branch || !remote || !allowedSigners || !namespace) return undefined;
  if (!gitName.test(branch) || !gitName.test(remote) || !repoPath.test(allowedSigners)) return undefined;
  if (raw.repo !== undefined && !(typeof raw.repo === "string" && REPO_PATTERN.test(raw.repo)))
    return undefined;
  const repo = opts.repo ?? raw.repo;
  if (raw.groups !== undefined && !isObject(raw.groups)) return undefined;
  // Every group, used or not, as the full loader checks them: principals only, each one checkable.
  const groups: Record<string, Principal[]> = {};
  for (const [name, members] of Object.entries(raw.groups ?? {})) {
    if (!NAME_PATTERN.test(name) || !Array.isArray(members) || members.length === 0) return undefined;
    const list = members.map((m) => (typeof m === "string" ? principalFor(m, provider) : undefined));
    if (list.some((p) => p === undefined)) return undefined;
    groups[name] = list as Principal[];
  }
  if (!isObject(raw.stages)) return undefined;
  const defaults = isObject(raw.defaults) ? raw.defaults : raw.defaults === undefined ? {} : undefined;
  if (!defaults) return undefined;
  // Guard picks the candidates it reads by the stage's maxTtl: read it as normalisation would.
  const defaultMaxTtl = duration(defaults.maxTtl, builtInRules.maxTtlMs);
  if (defaultMaxTtl === undefined) return undefined;

  const stages: Record<string, StagePolicy> = {};
  for (const [name, s] of Object.entries(raw.stages)) {
    if (!NAME_PATTERN.test(name) || !isObject(s) || !Array.isArray(s.allow) || s.allow.length === 0)
      return undefined;
    const allow: Principal[] = [];
    for (const a of s.allow) {
      if (typeof a !== "string") return undefined;
      const members = a.includes(":")
        ? [principalFor(a, provider)]
        : Object.hasOwn(groups, a)
          ? groups[a]
          : undefined;
      if (!members || members.some((p) => p === undefined)) return undefined;
      for (const p of members)
        if (!allow.some((q) => JSON.stringify(q) === JSON.stringify(p))) allow.push(p!);
    }
    const mechanism = s.mechanism;
    if (mechanism !== "guard" && mechanism !== "status" && mechanism !== "variable") return undefined;
    if (mechanismNeedsForge(mechanism) && provider === "git") return undefined;
    const maxTtlMs = duration(s.maxTtl, defaultMaxTtl);
    if (maxTtlMs === undefined) return undefined;
    // Guard reads name, mechanism, allow and maxTtl; the rest is what normalisation would default.
    stages[name] = {
      name,
      mechanism,
      allow,
      ttlMs: null,
      maxTtlMs,
      reasonMinLength: 0,
      ticket: { required: false },
    };
  }
  return {
    file,
    version: 1,
    provider,
    ...(repo ? { repo } : {}),
    github: {},
    gitlab: {},
    audit: { branch, remote, allowedSigners, namespace, signCommits: false },
    groups: {},
    stages,
    flags: {},
    notify: [],
    signers: {},
    review: { configured: false, required: false, withinMs: 0, allowSelf: false },
  };
}
