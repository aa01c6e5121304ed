/**
 * The normalised policy: what src/policy produces from the file after validation (durations in
 * milliseconds, group names resolved to principals, defaults applied). The rest of optout reads
 * only this shape, never the raw file.
 */
export type ProviderName = "github" | "gitlab" | "git";
export const providerNames: readonly ProviderName[] = ["github", "gitlab", "git"];

const HOUR = 3_600_000;

/** What a policy that says nothing gets: the defaults normalisation applies (and guard's fast reader). */
export const builtInRules = {
  ttlMs: 4 * HOUR,
  maxTtlMs: 24 * HOUR,
  reasonMinLength: 15,
  approvalTimeoutMs: 24 * HOUR,
  reviewWithinMs: 7 * 24 * HOUR,
} as const;

export type Principal =
  | { kind: "user"; login: string }
  | { kind: "team"; org: string; slug: string }
  | { kind: "group"; path: string }
  | { kind: "role"; role: string };

/**
 * Whether a `user:` principal names this login. GitHub and GitLab logins are unique whatever their
 * case, so they compare case-insensitively; plain git's are signer principals from
 * allowed_signers, compared as written. Writers (each provider's hasPrincipal) and every reader
 * (the evaluator) use this one rule, so a record a writer allowed is one the readers count.
 */
export function userNames(p: { login: string }, login: string, provider: ProviderName | string): boolean {
  return provider === "git" ? p.login === login : p.login.toLowerCase() === login.toLowerCase();
}

export function principalToString(p: Principal): string {
  switch (p.kind) {
    case "user":
      return `user:${p.login}`;
    case "team":
      return `team:${p.org}/${p.slug}`;
    case "group":
      return `group:${p.path}`;
    case "role":
      return `role:${p.role}`;
  }
}

export interface Approvals {
  required: number;
  from: Principal[];
  /** Only these environments need approval (rollout, flags, failover); absent: all. */
  environments?: string[];
  /** How long a request stays open. Default 24h. */
  timeoutMs: number;
}

export interface TicketRule {
  /** Compiled from `ticket.pattern`. */
  pattern?: RegExp;
  required: boolean;
}

/** Rules every overridable entry carries after defaults are applied. */
export interface EntryRules {
  /** The principals from `allow`, groups expanded. Never empty. */
  allow: Principal[];
  /** Default TTL; null = no TTL (rollouts and failovers unless set). */
  ttlMs: number | null;
  maxTtlMs: number;
  reasonMinLength: number;
  ticket: TicketRule;
  approvals?: Approvals;
}

export type StageMechanism = "status" | "variable" | "guard";

export interface StagePolicy extends EntryRules {
  name: string;
  mechanism: StageMechanism;
  /** Commit status context (mechanism `status`). */
  context?: string;
  /** Variable name (mechanism `variable`). */
  variable?: string;
}

export interface FlagPolicy extends EntryRules {
  name: string;
  description?: string;
  /** Allowed values; absent when `pattern` is used. */
  values?: string[];
  pattern?: RegExp;
  /** Allowed environments; absent: the flag is repo-wide and `--env` is refused. */
  environments?: string[];
}

export interface RolloutPolicy extends EntryRules {
  workflow?: string;
  ref?: string;
  /** argv array with {artifact} {env} {skip} {record} placeholders (plain git). */
  command?: string[];
  environments: string[];
  artifactPattern: RegExp;
  skippable: string[];
}

export interface FailoverPolicy extends EntryRules {
  variable?: string;
  targets: string[];
  workflow?: string;
  ref?: string;
  /** argv array with {target} {env} {record} placeholders (plain git). */
  command?: string[];
  environments?: string[];
}

export type NotifyChannel =
  | { type: "slack"; webhookUrlEnv: string }
  | { type: "webhook"; url: string; secretEnv?: string }
  | { type: "issue"; number: number };

export interface AuditSettings {
  branch: string;
  remote: string;
  allowedSigners: string;
  namespace: string;
  signingKey?: string;
  signCommits: boolean;
}

export interface ReviewSettings {
  /** Whether the policy has a `review` section: without one, nobody is reminded of reviews. */
  configured: boolean;
  allow?: Principal[];
  required: boolean;
  withinMs: number;
  allowSelf: boolean;
}

export interface Policy {
  /** Absolute path of the file it was loaded from. */
  file: string;
  version: 1;
  provider: ProviderName;
  repo?: string;
  github: { apiUrl?: string };
  gitlab: { url?: string };
  audit: AuditSettings;
  groups: Record<string, Principal[]>;
  stages: Record<string, StagePolicy>;
  flags: Record<string, FlagPolicy>;
  rollout?: RolloutPolicy;
  failover?: FailoverPolicy;
  notify: NotifyChannel[];
  /** forge login → allowed_signers principal */
  signers: Record<string, string>;
  pin?: "default-branch";
  review: ReviewSettings;
}

/** The policy entry that governs overrides of `op` on `target`, if the policy has one. */
export function entryRules(
  policy: Pick<Policy, "stages" | "flags" | "rollout" | "failover">,
  op: string | null,
  target: Readonly<Record<string, string | null | undefined>>,
): EntryRules | undefined {
  switch (op) {
    case "skip":
      return own(policy.stages, target.stage);
    case "flag":
      return own(policy.flags, target.flag);
    case "rollout":
      return policy.rollout;
    case "failover":
      return policy.failover;
    default:
      return undefined;
  }
}

/** Whether an override under `rules` needs a second person, given the environment it targets. */
export function approvalsFor(rules: EntryRules, env: string | null | undefined): Approvals | undefined {
  const a = rules.approvals;
  if (!a || a.required < 1) return undefined;
  if (a.environments && !(env && a.environments.includes(env))) return undefined;
  return a;
}

/** `map[key]` for a key the map really has ("constructor" is not a stage). */
export function own<T>(map: Readonly<Record<string, T>>, key: string | null | undefined): T | undefined {
  return typeof key === "string" && Object.hasOwn(map, key) ? map[key] : undefined;
}
