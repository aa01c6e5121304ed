/**
 * The ports the override flow works against. Providers (github, gitlab, git) and the ledger
 * implement them; core never imports an implementation.
 */
import type { Principal, ProviderName } from "./policy.js";
import type { ActiveIndex, Actor, LedgerRecord, OverrideType, RecordDraft, Target } from "./record.js";
import type { InForce, LedgerView } from "./state.js";

/**
 * Transitional: the index-shaped state some forge helpers still read (other overrides sharing a
 * variable, the artifact deployed). Built from the evaluator's view by `legacyState`.
 */
export interface LedgerState {
  seq: number;
  index: ActiveIndex;
}

export type AppendOutcome =
  | { kind: "landed"; record: LedgerRecord; path: string; attempts?: number }
  | { kind: "queued"; record: RecordDraft; reason: string };

export interface LedgerPort {
  /** Fetches the audit branch and evaluates it: what is in force now. */
  current(): Promise<LedgerView>;
  /**
   * Appends one record, chained onto the last valid one. `draftFor` sees what is in force and may
   * be called again after a concurrent append. A record the ledger would not count (the policy in
   * force refuses it, the clock is behind the newest record) is refused before it is pushed.
   */
  append(draftFor: (view: LedgerView) => RecordDraft, options?: { keep?: boolean }): Promise<AppendOutcome>;
}

/** What is in force on the target an operation is about, as a provider plans against it. */
export interface TargetView {
  /** The override in force on it (rollouts, failovers: the newest). */
  active?: InForce;
  /** Skips and flags: the state from before optout's first override (what ending restores); null: nothing was there. */
  baseline: unknown;
  /** Every override in force (providers look for others that share a forge object). */
  inForce: InForce[];
}

/** Undoing an override: restoring what was there before it (the baseline, for skips and flags). */
export interface RestoreSpec {
  kind: "revert" | "expire";
  op: OverrideType;
  target: Target;
  mechanism: string | null;
  /** The override being ended. */
  overrideId: string;
  /** Its verified record. */
  original: LedgerRecord;
  /** The state it put in place (its `after`). */
  current: unknown;
  /** The state to put back: the baseline (skips, flags) or its `before` (rollouts, failovers). */
  restore: unknown;
  /** Every override in force. */
  inForce: InForce[];
}

/** What an override will do, computed before anything changes. */
export interface Plan {
  /** Human lines: "will post status success on ci/lint @ 3f2a9c1 for 4h". */
  steps: string[];
  /** Forge requests / commands it would make (printed by --dry-run). */
  calls: string[];
  before: unknown;
  after: unknown;
  /** False when the ledger record itself is the override (mechanism guard on any provider). */
  external: boolean;
}

/**
 * One override, as the provider sees it. Shapes by `op` (recorded in the ledger; revert restores
 * `before`):
 * - skip: target `{ stage, ref, sha }` (sha null = the whole ref; forge `status` skips resolve it);
 *   mechanism `status` | `variable` | `guard`. before/after for status: `{ state, description,
 *   targetUrl } | null`; for variable: `{ value: string | null }`.
 * - flag: target `{ flag, env }` (env null = repo level); params `{ value }` (null = unset).
 *   before/after: `{ value: string | null }`.
 * - rollout: target `{ env, artifact }`; params `{ skip (comma list or null), wait ("true"|null),
 *   timeoutMs, previous (a deployment id: run that deployment again; then mechanism `rerun`) }`.
 *   before: `{ artifact: string | null }`; after: `{ artifact, run?: { id, url, conclusion } }`.
 * - failover: target `{ target, env }`; params `{ wait, timeoutMs }`. before/after: `{ target: string | null }`.
 * The provider reads its policy entry (stage context/variable, rollout workflow/command, …) from
 * the Policy it was built with.
 */
export interface OverrideSpec {
  op: OverrideType;
  target: Target;
  mechanism: string;
  /** Type-specific inputs (flag value, skip list, wait). */
  params: Record<string, string | null>;
  expiresAt: string | null;
  /** The record id the override will have (workflows carry it in run-name / OPTOUT_RECORD). */
  recordId?: string;
}

export interface ProviderPort {
  readonly name: ProviderName;
  /** Who is acting, from the forge (for git: the signing key's principal). */
  identity(): Promise<Actor>;
  /** Whether the actor is covered by a principal (user, team, group, role). */
  hasPrincipal(actor: Actor, principal: Principal): Promise<boolean>;
  /** Reads the state before, and says what applying would do. Read-only. */
  plan(spec: OverrideSpec, view: TargetView): Promise<Plan>;
  /** Makes the change. Called only after the intent record landed. */
  apply(
    spec: OverrideSpec,
    plan: Plan,
    record: LedgerRecord,
    signal?: AbortSignal,
  ): Promise<{ after: unknown; detail?: string }>;
  /** Plans ending an override: putting `spec.restore` back. Read-only. */
  planRestore(spec: RestoreSpec): Promise<Plan>;
  /** Ends an override (revert, expire, flag unset): puts `spec.restore` back. */
  restore(
    spec: RestoreSpec,
    plan: Plan,
    record: LedgerRecord,
    signal?: AbortSignal,
  ): Promise<{ after: unknown }>;
  /**
   * After a crash between intent and result: whether the intended change is in effect, read
   * from the forge (undefined when the provider cannot tell, e.g. a command on plain git).
   */
  settle?(intent: LedgerRecord): Promise<{ applied: boolean; after: unknown } | undefined>;
  /** Comments on the policy's tracking issue (notify channel `issue`); absent without a forge. */
  commentOnIssue?(issue: number, markdown: string, signal?: AbortSignal): Promise<void>;
  /** A browsable URL of a file on the audit branch, when the forge can show one. */
  recordUrl?(path: string): string | undefined;
  /**
   * Whether the forge protects `branch` against force pushes and deletion (`optout doctor`);
   * undefined when it cannot tell (e.g. the token may not read the settings).
   */
  branchProtection?(branch: string): Promise<BranchProtection | undefined>;
  /**
   * How the actor is known, for `optout auth status` (never a secret): "token from GH_TOKEN",
   * "the signing key's principal in allowed_signers on the default branch".
   */
  identitySource(): Promise<string>;
  /**
   * The checks `optout doctor` runs that depend on the provider: credentials, branch protection,
   * and what the forge allows each mechanism the policy uses. Never throws: a check that cannot
   * run is a failed or warning check saying why.
   */
  doctorChecks(c: DoctorContext): Promise<DoctorCheck[]>;
  /** The mechanism a rollout or failover uses on this provider (recorded with the override). */
  mechanismFor(op: "rollout" | "failover"): string;
  /**
   * The deployment `rollout --previous` runs again: the one named, else the newest successful
   * deployment to `env` older than its newest deployment. Absent where there is no forge.
   */
  previousDeployment?(env: string, named?: string): Promise<PreviousDeployment>;
}

/** A deployment to run again (GitHub: its workflow run; GitLab: its deployment job). */
export interface PreviousDeployment {
  /** The forge's deployment id. */
  id: string;
  /** What it deployed, when the forge says (its payload or OPTOUT_ARTIFACT); null when unknown. */
  artifact: string | null;
  /** "deployment 123 of 2026-11-20 (run 456)", for plans and messages. */
  summary: string;
}

export interface DoctorContext {
  auditBranch: string;
  /** The default branch, when allowed_signers could be read from it. */
  defaultBranch: string | undefined;
}

export interface DoctorCheck {
  name: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  hint?: string;
}

/** How a forge protects a branch (null: the forge did not say). */
export interface BranchProtection {
  protected: boolean;
  forcePushBlocked: boolean | null;
  deletionBlocked: boolean | null;
  detail: string;
}

/** What a forge provider is built with (src/factory.ts makes it). */
export interface ProviderContext {
  policy: import("./policy.js").Policy;
  /** owner/name or group/sub/project. */
  repo: string;
  env: Record<string, string | undefined>;
  /** --verbose request log: "GET /repos/acme/shop 200 41ms" (never a token or auth header). */
  log: (line: string) => void;
  /** Progress for the spinner (waiting on a run, a Retry-After). */
  progress: (text: string) => void;
  warn: (text: string) => void;
  now: () => Date;
  /** Tests shorten these; production uses ~60 s budget, 5 attempts, Retry-After ≤ 60 s. */
  retry?: { budgetMs?: number; maxAttempts?: number; maxRetryAfterMs?: number };
}

/** The events every override announces (issue: notifications). */
export type NotifyEventName =
  | "applied"
  | "pending"
  | "approved"
  | "rejected"
  | "reverted"
  | "expired"
  | "denied"
  | "failed"
  | "test";

export interface NotifyEvent {
  event: NotifyEventName;
  /** The record the event is about (for a denial: the deny record; for applied: the override). */
  record: import("./record.js").LedgerRecord | import("./record.js").RecordDraft;
  repo: string;
  links: {
    /** URL of the record on the audit branch, when the forge can show it. */
    record?: string;
    /** e.g. the workflow run or pipeline URL. */
    run?: string;
    /** `optout revert <id>` / `optout approve <id>`: commands to paste. */
    revert?: string;
    approve?: string;
  };
}

export interface NotificationResult {
  /** `slack`, `webhook`, `issue`, with a `#n` suffix when a type appears twice. */
  channel: string;
  status: "sent" | "failed" | "skipped" | "dry-run";
  attempts: number;
  error?: string;
  /** A dry run: what the channel would be sent. */
  payload?: unknown;
}

export interface NotifierPort {
  /**
   * Sends to every channel in parallel (or only to those named, for a retry); never throws; each
   * channel bounded in time.
   */
  announce(e: NotifyEvent, only?: readonly string[]): Promise<NotificationResult[]>;
  /** What would be sent (for --dry-run): channel → payload, secrets left out. */
  preview(e: NotifyEvent): { channel: string; payload: unknown }[];
}

export interface DoctorContext {
  auditBranch: string;
  /** The default branch, when allowed_signers could be read from it. */
  defaultBranch: string | undefined;
}

export interface DoctorCheck {
  name: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  hint?: string;
}
