/**
 * Builds audit-branch commit entries in memory for the evaluator's tests: real canonical bytes and
 * hashes, signatures stood in for by the key that "made" them (the crypto is tested against
 * ssh-keygen elsewhere; here the question is what a verified record means).
 */
import { createHash } from "node:crypto";
import type { ChainContext, CommitEntry, KeyTrust } from "../../src/core/chain.js";
import type { LedgerRecord, RecordType } from "../../src/core/record.js";
import { canonicalize } from "../../src/ledger/canonical.js";

const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
let counter = 0;

/** A ULID for `ms`, unique within the test run. */
export function ulidAt(ms: number): string {
  let t = ms;
  let time = "";
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let n = counter++;
  let rand = "";
  for (let i = 0; i < 16; i++) {
    rand = alphabet[n % 32] + rand;
    n = Math.floor(n / 32);
  }
  return time + rand;
}

export interface Person {
  principal: string;
  login: string;
  key: Uint8Array;
}

export interface KeyLine {
  principal: string;
  key: Uint8Array;
  validBefore?: number;
  validAfter?: number;
}

export function keyTrust(lines: KeyLine[]): KeyTrust {
  const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
  return {
    principalsFor: (key, at) =>
      lines
        .filter(
          (l) =>
            same(l.key, key) &&
            (l.validBefore === undefined || at.getTime() < l.validBefore) &&
            (l.validAfter === undefined || at.getTime() >= l.validAfter),
        )
        .map((l) => l.principal),
    keysOf: (p) => lines.filter((l) => l.principal === p).map((l) => l.key),
  };
}

export type Draft = Partial<LedgerRecord> & { type: RecordType };

export interface AppendOptions {
  /** Sign as this person (default: the actor). */
  signedBy?: Person;
  /** No valid signature at all (a pusher without a key). */
  unsigned?: boolean;
  /** Chain onto this record instead of the last one appended. */
  prevOf?: { hash: string; seq: number } | null;
  seq?: number;
  time?: number;
  shape?: string[];
}

export class ChainBuilder {
  readonly entries: CommitEntry[] = [];
  /** What the next honest record chains onto. */
  head: { hash: string; seq: number } | undefined;
  clock: number;

  constructor(
    readonly repo = "acme/shop",
    readonly provider: "git" | "github" | "gitlab" = "git",
    start = Date.parse("2026-11-02T09:00:00Z"),
  ) {
    this.clock = start;
  }

  tick(ms = 60_000): number {
    this.clock += ms;
    return this.clock;
  }

  append(as: Person, draft: Draft, o: AppendOptions = {}): LedgerRecord {
    const time = o.time ?? this.tick();
    const prev = o.prevOf === undefined ? this.head : (o.prevOf ?? undefined);
    const record = {
      v: 1,
      id: ulidAt(time),
      seq: o.seq ?? (prev ? prev.seq + 1 : 1),
      prev: prev ? prev.hash : null,
      time: new Date(time).toISOString(),
      op: null,
      actor: { provider: this.provider, login: as.login, id: as.login },
      signer: (o.signedBy ?? as).principal,
      repo: this.repo,
      target: {},
      reason: "linter crashes on node 22, INC-4411",
      ticket: null,
      mechanism: null,
      before: null,
      after: null,
      expiresAt: null,
      links: {},
      outcome: "applied",
      tool: "optout/test",
      ...draft,
    } as LedgerRecord;
    const bytes = Buffer.from(canonicalize(record), "utf8");
    const hash = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    this.entries.push({
      commit: `c${this.entries.length}`,
      shape: o.shape ?? [],
      path: `records/x/${record.id}.json`,
      record,
      hash,
      signature: o.unsigned
        ? { ok: false, reason: "bad signature" }
        : { ok: true, key: (o.signedBy ?? as).key },
    });
    if (!o.unsigned && !o.shape?.length && o.prevOf === undefined) this.head = { hash, seq: record.seq };
    return record;
  }

  ctx(trust: KeyTrust, signers: Record<string, string> = {}): ChainContext {
    return { repo: this.repo, provider: this.provider, signers, keys: trust };
  }
}

export function person(name: string): Person {
  return { principal: name, login: name, key: new Uint8Array(createHash("sha256").update(name).digest()) };
}
