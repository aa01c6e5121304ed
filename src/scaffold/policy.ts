/**
 * The files `optout init` writes for the policy: `.optoutrc.json` from the answers, and
 * `.optout/allowed_signers` with the user's key. Both are pure functions of their inputs, so a
 * second run with the same answers produces the same bytes (and init reports "unchanged").
 */
import type { ProviderName, StageMechanism } from "../core/policy.js";
import { POLICY_SCHEMA_ID } from "../policy/json-schema.js";
import type { PolicyFile } from "../policy/schema.js";

export interface StageAnswer {
  name: string;
  mechanism: StageMechanism;
  /** Commit status context (mechanism status). */
  context?: string;
  /** CI variable (mechanism variable). */
  variable?: string;
}

export type NotifyAnswer = NonNullable<PolicyFile["notify"]>[number];

export interface InitAnswers {
  provider: ProviderName;
  repo?: string;
  gitlabUrl?: string;
  stages: StageAnswer[];
  /** Principals of the `oncall` group that every stage allows. */
  allow: string[];
  ttl: string;
  maxTtl: string;
  notify: NotifyAnswer[];
}

/** The group every generated stage allows: one place to add people later. */
export const ONCALL_GROUP = "oncall";

export function policyObject(a: InitAnswers): Record<string, unknown> {
  const stages: Record<string, Record<string, unknown>> = {};
  for (const s of a.stages) {
    stages[s.name] = {
      mechanism: s.mechanism,
      ...(s.mechanism === "status" && s.context ? { context: s.context } : {}),
      ...(s.mechanism === "variable" && s.variable ? { variable: s.variable } : {}),
      allow: [ONCALL_GROUP],
    };
  }
  return {
    $schema: POLICY_SCHEMA_ID,
    version: 1,
    provider: a.provider,
    ...(a.repo ? { repo: a.repo } : {}),
    ...(a.gitlabUrl ? { gitlab: { url: a.gitlabUrl } } : {}),
    defaults: { ttl: a.ttl, maxTtl: a.maxTtl, reason: { minLength: 15 } },
    groups: { [ONCALL_GROUP]: a.allow },
    stages,
    ...(a.notify.length ? { notify: a.notify } : {}),
  };
}

export function policyText(a: InitAnswers): string {
  return `${JSON.stringify(policyObject(a), null, 2)}\n`;
}

const SIGNERS_HEADER = [
  "# Keys that may sign optout ledger records: one line per key, `principal ssh-ed25519 AAAA…`.",
  "# optout reads this file from the default branch of the remote only: a line takes effect once",
  "# it is pushed there. See docs/security.md.",
  "",
].join("\n");

/** The allowed_signers line for a key ("ssh-ed25519 AAAA…") and principal. */
export function signerLine(principal: string, publicLine: string): string {
  return `${principal} ${publicLine}`;
}

/** The lines of an allowed_signers file that list this key ("ssh-ed25519 AAAA…"). */
function linesWithKey(text: string, publicLine: string): string[] {
  const blob = publicLine.split(/\s+/)[1];
  if (!blob) return [];
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => !l.startsWith("#") && l.split(/\s+/).includes(blob));
}

/** True when `text` already trusts this key (under any principal): adding it again changes nothing. */
export function hasKey(text: string, publicLine: string): boolean {
  return linesWithKey(text, publicLine).length > 0;
}

/** The first principal `text` lists this key under, if any. */
export function principalForKey(text: string, publicLine: string): string | undefined {
  const first = linesWithKey(text, publicLine)[0];
  return first?.split(/\s+/)[0]?.split(",")[0] || undefined;
}

/**
 * What allowed_signers should hold: a new file with the header and the line, or the existing file
 * with the line appended. Existing lines are never dropped, even with --force.
 */
export function allowedSignersText(existing: string | undefined, line: string | undefined): string {
  if (existing === undefined) return `${SIGNERS_HEADER}${line ? `${line}\n` : ""}`;
  if (!line || hasKey(existing, line.split(/\s+/).slice(1).join(" "))) return existing;
  const base = existing === "" || existing.endsWith("\n") ? existing : `${existing}\n`;
  return `${base}${line}\n`;
}
