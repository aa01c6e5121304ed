/** Types for bench/make-ledger.mjs (plain JavaScript so `npm run bench` needs no TypeScript loader). */
export interface MakeLedgerOptions {
  /** Repository (bare or not) that receives the branch; it must not have it yet. */
  gitDir: string;
  records: number;
  /** Unencrypted OpenSSH ed25519 private key: signs in process. */
  key: string;
  /** The key's allowed_signers principal, also the actor's login (default "alice"). */
  principal?: string;
  /** The records' `repo` (default "acme/shop"). */
  repo?: string;
  /** SSHSIG namespace (default "optout-audit"). */
  namespace?: string;
  /** Default "optout/audit". */
  branch?: string;
  /** Time between two records (default 10 minutes). */
  intervalMs?: number;
  /** Time of the last record, ms since the epoch (default one minute ago). */
  end?: number;
  /** optout's built modules (default this checkout's dist/). */
  dist?: string;
}

export interface MadeLedger {
  tip: string;
  records: number;
  last: { id: string; path: string; seq: number };
}

export function makeLedger(o: MakeLedgerOptions): Promise<MadeLedger>;
