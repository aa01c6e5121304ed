/**
 * The ports the override flow works against. Providers (github, gitlab, git) and the ledger
 * implement them; core never imports an implementation.
 */
import type { Principal, ProviderName } from "./policy.js";
import type {
  ActiveIndex,
  Actor,
  IndexEntry,
  LedgerRecord,
  OverrideType,
  RecordDraft,
  Target,
} from "./record.js";

export interface LedgerState {
  seq: number;
  index: ActiveIndex;
}

export type AppendOutcome =
  | { kind: "landed"; record: LedgerRecord; path: string }
  | { kind: "queued"; record: RecordDraft; reason: string };

export interface LedgerPort {
  /** Fetches and returns the current state of the audit branch. */
  current(): Promise<LedgerState>;
  /** Appends one record; `draftFor` may be called again after a concurrent append. */
  append(draftFor: (s: LedgerState) => RecordDraft): Promise<AppendOutcome>;
  /** A record by id (verified), for revert and approvals. */
  record(entry: IndexEntry): Promise<LedgerRecord>;
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

export interface OverrideSpec {
  op: OverrideType;
  target: Target;
  mechanism: string;
  /** Type-specific inputs (flag value, artifact, skip list, failover target). */
  params: Record<string, string | null>;
  expiresAt: string | null;
}

export interface ProviderPort {
  readonly name: ProviderName;
  /** Who is acting, from the forge (for git: the signing key's principal). */
  identity(): Promise<Actor>;
  /** Whether the actor is covered by a principal (user, team, group, role). */
  hasPrincipal(actor: Actor, principal: Principal): Promise<boolean>;
  /** Reads the state before, and says what applying would do. Read-only. */
  plan(spec: OverrideSpec, state: LedgerState): Promise<Plan>;
  /** Makes the change. Called only after the intent record landed. */
  apply(spec: OverrideSpec, plan: Plan, record: LedgerRecord): Promise<{ after: unknown; detail?: string }>;
  /** Plans undoing an override from its recorded `before`. */
  planRestore(entry: IndexEntry, original: LedgerRecord, state: LedgerState): Promise<Plan>;
  /** Restores the recorded `before` state (revert and expire). */
  restore(
    entry: IndexEntry,
    original: LedgerRecord,
    plan: Plan,
    record: LedgerRecord,
  ): Promise<{ after: unknown }>;
}
