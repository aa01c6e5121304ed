/**
 * The audit branch: read its tip, append a signed record (fetch → build → sign → push, never
 * forced, retried with jittered backoff on rejection), and queue what cannot land (local.ts keeps
 * the queue and the clone's other local state).
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { clockToleranceMs } from "../core/chain.js";
import {
  type ActiveIndex,
  emptyIndex,
  type LedgerRecord,
  type RecordDraft,
  recordSubject,
} from "../core/record.js";
import { indexOf, type LedgerEvaluator } from "../core/state.js";
import { FailedError, NotAllowedError, UsageError } from "../errors.js";
import { ObjectWriter, readObjects, resolveOids } from "../git/objects.js";
import {
  fetchBranch,
  fetchObjects,
  hasPromisorPacks,
  isShallow,
  pushCommit,
  type RepoInfo,
  resolveRef,
  updateRef,
} from "../git/repo.js";
import { git } from "../git/run.js";
import { backoffMs } from "../providers/retry.js";
import { version } from "../version.js";
import { canonicalize } from "./canonical.js";
import { LocalState } from "./local.js";
import { parseTrailers } from "./trailers.js";
import { buildTree, commitBody, withSignature } from "./tree.js";
import { ulidTime } from "./ulid.js";

export const toolVersion = `optout/${version()}`;

/** A writer's clock this far ahead of the newest time the remote shows is worth a warning. */
const clockAheadWarningMs = 24 * 3_600_000;

export interface LedgerConfig {
  repo: RepoInfo;
  remote: string;
  branch: string;
  /** Give up pushing after this long and queue the record (60 s unless OPTOUT_APPEND_TIMEOUT_MS says). */
  appendTimeoutMs: number;
  now: () => Date;
  /** Told about each rejected push, for the spinner / verbose log. */
  onRetry?: (attempt: number, why: string) => void;
  /** Told what the user should know before a record lands (a clock far ahead). */
  warn?: (text: string) => void;
  /** Policy audit.signCommits: signs each commit (namespace "git") for `git verify-commit`. */
  signCommit?: Sign;
  /** The evaluator over the branch up to `tip` (the records that count, under the policy in force). */
  evaluate: (tip: string | undefined) => Promise<LedgerEvaluator>;
}

/** Who signs what this process appends: the allowed_signers principal and the key's wire blob. */
export interface SignerInfo {
  principal: string;
  key: Buffer;
}

export interface TipState {
  tip: string | undefined;
  seq: number;
  prev: string | null;
  lastPath: string | undefined;
  index: ActiveIndex;
}

/**
 * The skips and flags in force, one line each, in the commit message: commits come with every
 * fetch (blobs do not, in CI's filtered checkouts), so guard and `flag get` find their candidates
 * without a second request. Nominations only: readers verify the records themselves.
 */
function nominationLines(index: ActiveIndex): string {
  const lines = index.active
    .filter((e) => e.op === "skip" || e.op === "flag")
    .map(
      (e) =>
        `Optout-Active: ${JSON.stringify({ id: e.id, op: e.op, target: e.target, expiresAt: e.expiresAt, record: e.record })}\n`,
    );
  return `${lines.join("")}Optout-Index: ${lines.length}\n`;
}

/**
 * Refuses a record the ledger would not count, before it is signed: the evaluator that every
 * reader uses judges it as if it had landed. A clock behind the newest record is a usage problem
 * (fix the clock); anything else is a refusal (the policy in force does not allow it).
 */
function refuseUncounted(
  ev: LedgerEvaluator,
  record: LedgerRecord,
  bytes: Buffer,
  path: string,
  signer: SignerInfo,
): void {
  const before = ev.alerts.length;
  ev.add({
    commit: "(new)",
    shape: [],
    path,
    record,
    hash: sha256Ref(bytes),
    signature: { ok: true, key: signer.key },
  });
  const alert = ev.alerts[before];
  if (!alert) return;
  if (alert.kind === "junk" && /is before/.test(alert.problem)) {
    const tail = ev.valid.at(-1)?.record;
    throw new UsageError(`this machine's clock (${record.time}) is behind the ledger's newest record`, {
      hint: `${tail ? `${tail.id} by ${tail.actor.login} claims ${tail.time}; ` : ""}records may not go back in time by more than ${clockToleranceMs / 60_000} minutes: check the clock (date -u); if that record's clock was wrong, a maintainer can set valid-before on its key in allowed_signers`,
    });
  }
  throw new NotAllowedError(`the ledger would not count this record: ${alert.problem}`, {
    hint: "the policy and allowed_signers on the default branch decide what counts",
  });
}

export interface SignedFiles {
  bytes: Buffer;
  sig: string;
}

export type AppendResult =
  | { kind: "landed"; record: LedgerRecord; path: string; commit: string; attempts: number }
  | { kind: "queued"; record: RecordDraft; reason: string; attempts: number };

export type Sign = (bytes: Buffer) => Promise<string>;

export function recordPath(id: string): { dir: string[]; name: string; path: string } {
  const d = new Date(ulidTime(id));
  const dir = [
    String(d.getUTCFullYear()),
    String(d.getUTCMonth() + 1).padStart(2, "0"),
    String(d.getUTCDate()).padStart(2, "0"),
  ];
  const name = `${id}.json`;
  return { dir, name, path: `records/${dir.join("/")}/${name}` };
}

export function sha256Ref(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/**
 * Deepens a shallow checkout to the audit branch's whole history, and only that branch's: git
 * reads the "infinite" depth 2147483647 as --unshallow, which fetches the history of every
 * shallow branch (all of main's, in a CI checkout). A finite depth larger than any ledger does not.
 */
export const historyDepth = "--depth=1000000000";

export class Ledger {
  readonly trackingRef: string;
  private readonly writer: ObjectWriter;
  /** What this clone keeps beside the branch: the queue, running markers, the verified anchor. */
  readonly local: LocalState;

  constructor(readonly cfg: LedgerConfig) {
    this.trackingRef = `refs/remotes/${cfg.remote}/${cfg.branch}`;
    this.writer = new ObjectWriter(join(cfg.repo.commonDir, "objects"), cfg.repo.objectFormat);
    this.local = new LocalState(cfg.repo.commonDir);
  }

  /**
   * Set when the branch's blobs may be missing (guard's blob-less fetch, a checkout made with
   * --filter): reads then prefetch what they need in one round trip.
   */
  partial = false;

  get hashBytes(): number {
    return this.writer.hashBytes;
  }

  /**
   * In a partial fetch, brings every record and signature of `tip` over in one request (they
   * are all in its tree): for a reader of the whole history, such as `guard --strict`.
   */
  async prefetchRecords(tip: string): Promise<void> {
    if (!this.partial) return;
    const listing = await git(["ls-tree", "-r", tip, "--", "records"], { cwd: this.cwd });
    const oids: string[] = [];
    for (const line of listing.stdout.toString("utf8").split("\n")) {
      const m = /^\d+ blob ([0-9a-f]+)\t/.exec(line);
      if (m) oids.push(m[1]!);
    }
    await this.prefetch([], oids);
  }

  private get cwd(): string {
    return this.cfg.repo.root;
  }

  /**
   * In a partial fetch, brings the named blobs (`<rev>:<path>`, and blob ids) over in one request
   * before they are read; git would otherwise fetch each missing blob on its own. Throws when
   * the remote cannot be asked: guard must not answer from what it could not read.
   */
  async prefetch(names: readonly string[], oids: readonly string[] = []): Promise<void> {
    if (!this.partial) return;
    const resolved = [...(await resolveOids(this.cwd, names, this.hashBytes)).values(), ...oids];
    const r = await fetchObjects(this.cwd, this.cfg.remote, [...new Set(resolved)]);
    if (!r.ok) {
      throw new FailedError(`cannot fetch audit records from ${this.cfg.remote}: ${r.message}`, {
        hint: "check the connection to the remote and run the command again",
      });
    }
  }

  /** Fetches the branch; `reachable: false` when the remote could not be asked. */
  async fetch(
    options: { history?: boolean } = {},
  ): Promise<{ reachable: boolean; exists: boolean; error?: string }> {
    // guard fetches only the tip in CI (--depth=1, which makes the clone shallow); whoever reads
    // the branch's history (log, verify, reports) deepens it to the full chain first.
    const deepen = options.history && isShallow(this.cfg.repo.commonDir) ? [historyDepth] : [];
    const r = await fetchBranch(this.cwd, this.cfg.remote, this.cfg.branch, this.trackingRef, deepen);
    if (r.ok) {
      // A checkout where guard fetched the branch without blobs (or made with --filter): the
      // reader is about to read every record, which git would fetch one request per blob.
      if (options.history && hasPromisorPacks(this.cfg.repo.commonDir)) {
        this.partial = true;
        const tip = await this.localTip();
        if (tip) await this.prefetchRecords(tip);
      }
      return { reachable: true, exists: true };
    }
    if (r.missing) {
      // The branch is gone (or never was): forget a stale local copy so we do not build on it.
      return { reachable: true, exists: false };
    }
    return { reachable: false, exists: false, error: r.message };
  }

  /**
   * The audit branch's tip as readers see it: fetched with its whole history, or, when the remote
   * cannot be reached, the local copy, after `warn` says so. undefined: the branch does not exist.
   */
  async readTip(warn: (text: string) => void): Promise<{ tip: string | undefined; offline: boolean }> {
    const f = await this.fetch({ history: true });
    if (!f.reachable) warn(`cannot reach ${this.cfg.remote} (${f.error}); reading the local copy`);
    return { tip: f.exists || !f.reachable ? await this.localTip() : undefined, offline: !f.reachable };
  }

  localTip(): Promise<string | undefined> {
    return resolveRef(this.cwd, this.trackingRef);
  }

  /** Seq, prev hash and index at `tip` (empty state for a branch that does not exist yet). */
  async state(tip: string | undefined): Promise<TipState> {
    if (!tip) return { tip, seq: 0, prev: null, lastPath: undefined, index: emptyIndex() };
    const commit = (await readObjects(this.cwd, [tip])).get(tip);
    if (!commit) throw new Error(`audit branch tip ${tip} is missing`);
    const trailers = parseTrailers(commit.data.toString("utf8"));
    const lastPath = trailers["Optout-Record"];
    const seq = Number(trailers["Optout-Seq"] ?? 0);
    const names = [`${tip}:state/active.json`, ...(lastPath ? [`${tip}:${lastPath}`] : [])];
    const objs = await readObjects(this.cwd, names);
    const last = lastPath ? objs.get(`${tip}:${lastPath}`)?.data : undefined;
    const indexBlob = objs.get(names[0]!)?.data;
    let index = emptyIndex();
    if (indexBlob) {
      try {
        index = JSON.parse(indexBlob.toString("utf8")) as ActiveIndex;
      } catch {
        // A broken cache is rebuilt from nothing rather than trusted; verify reports the record.
      }
    }
    return { tip, seq, prev: last ? sha256Ref(last) : null, lastPath, index };
  }

  async readFiles(tip: string, paths: readonly string[]): Promise<Map<string, Buffer>> {
    const objs = await readObjects(
      this.cwd,
      paths.map((p) => `${tip}:${p}`),
    );
    const out = new Map<string, Buffer>();
    for (const p of paths) {
      const o = objs.get(`${tip}:${p}`);
      if (o) out.set(p, o.data);
    }
    return out;
  }

  /**
   * Appends one record, chained onto the last record that counts (junk at the tip is chained past).
   * `draftFor` builds the record against what is in force (it is called again after every
   * rejection, so it sees what others appended meanwhile). The record is checked by the same
   * evaluator every reader uses before it is pushed: one the ledger would not count (a clock behind
   * the newest record, an override the policy in force refuses) is refused here, never written.
   * `keep: false` (intents, requests, approvals): what cannot be pushed is not kept for later.
   */
  async append(
    draftFor: (ev: LedgerEvaluator) => RecordDraft,
    sign: Sign,
    signer: SignerInfo,
    options: { fetch?: boolean; keep?: boolean } = {},
  ): Promise<AppendResult> {
    const deadline = Date.now() + this.cfg.appendTimeoutMs;
    let attempts = 0;
    let lastReason = "";
    let draft: RecordDraft | undefined;
    for (;;) {
      attempts++;
      let tip: string | undefined;
      if (options.fetch !== false || attempts > 1) {
        const f = await this.fetch({ history: true });
        if (!f.reachable) {
          lastReason = `cannot reach remote ${this.cfg.remote}: ${f.error}`;
          if (Date.now() + this.backoff(attempts) >= deadline) break;
          await sleep(this.backoff(attempts));
          continue;
        }
        tip = f.exists ? await this.localTip() : undefined;
      } else {
        tip = await this.localTip();
      }
      const ev = await this.cfg.evaluate(tip);
      draft = draftFor(ev);
      const time = this.cfg.now().toISOString();
      const tail = ev.tail;
      const record: LedgerRecord = {
        ...draft,
        v: 1,
        seq: tail ? tail.seq + 1 : 1,
        prev: tail ? tail.hash : null,
        time,
        signer: signer.principal,
        tool: toolVersion,
      } as LedgerRecord;
      const bytes = Buffer.from(canonicalize(record), "utf8");
      const where = recordPath(record.id);
      refuseUncounted(ev, record, bytes, where.path, signer);
      await this.warnIfAhead(Date.parse(time), tail?.time);
      const index = indexOf(ev);
      const sig = await sign(bytes);
      const tree = await buildTree(this.cwd, this.writer, tip, {
        dir: where.dir,
        recordName: where.name,
        record: bytes,
        sigName: `${where.name}.sig`,
        sig: Buffer.from(sig, "utf8"),
        index: Buffer.from(`${JSON.stringify(index, null, 1)}\n`, "utf8"),
      });
      const message = `${recordSubject(record)}\n\n${nominationLines(index)}Optout-Seq: ${record.seq}\nOptout-Record: ${where.path}\n`;
      const body = commitBody({
        tree,
        ...(tip ? { parent: tip } : {}),
        authorName: record.actor.login,
        authorEmail: signer.principal.includes("@") ? signer.principal : `${signer.principal}@optout.invalid`,
        time: new Date(time),
        message,
      });
      const commit = await this.writer.write(
        "commit",
        this.cfg.signCommit
          ? withSignature(body, await this.cfg.signCommit(body), this.cfg.repo.objectFormat)
          : body,
      );
      const pushed = await pushCommit(this.cwd, this.cfg.remote, commit, this.cfg.branch);
      if (pushed.kind === "ok") {
        await updateRef(this.cwd, this.trackingRef, commit);
        return { kind: "landed", record, path: where.path, commit, attempts };
      }
      lastReason =
        pushed.kind === "rejected" ? `push rejected: ${pushed.message}` : `push failed: ${pushed.message}`;
      this.cfg.onRetry?.(attempts, lastReason);
      const wait = this.backoff(attempts);
      if (Date.now() + wait >= deadline) break;
      await sleep(wait);
    }
    if (!draft) {
      // Never reached the remote: build the draft on what we have locally.
      draft = draftFor(await this.cfg.evaluate(await this.localTip()));
    }
    if (options.keep !== false) await this.local.enqueue(draft, signer.principal);
    return { kind: "queued", record: draft, reason: lastReason, attempts };
  }

  private warnedAhead = false;

  /**
   * A clock far ahead of every time the remote shows (the newest record's, the newest commit of
   * any branch fetched from it) is likely wrong, and what it signs would not be believed until
   * its time and would hold up every other writer until then: say so before it lands. Only a
   * warning: a quiet repository looks the same.
   */
  private async warnIfAhead(now: number, newestRecord: number | undefined): Promise<void> {
    if (this.warnedAhead || !this.cfg.warn) return;
    this.warnedAhead = true;
    const r = await git(
      [
        "for-each-ref",
        "--sort=-committerdate",
        "--count=1",
        "--format=%(committerdate:unix)",
        `refs/remotes/${this.cfg.remote}/`,
      ],
      { cwd: this.cwd },
    ).catch(() => undefined);
    const commit = Number(r?.stdout.toString("utf8").trim()) * 1000 || 0;
    const newest = Math.max(commit, newestRecord ?? 0);
    if (newest === 0 || now - newest <= clockAheadWarningMs) return;
    const hours = Math.round((now - newest) / 3_600_000);
    this.cfg.warn(
      `optout: warning: this machine's clock (${new Date(now).toISOString()}) is ${hours}h ahead of the newest time ${this.cfg.remote} shows (${new Date(newest).toISOString()}); if the clock is wrong, fix it (date -u): a record dated ahead is not believed before its time, and holds up other writers until then`,
    );
  }

  /** Exponential backoff with full jitter, capped: many writers spread out instead of colliding. */
  private backoff(attempt: number): number {
    return backoffMs(attempt + 1, { baseMs: 40, capMs: 2_000, jitter: "full" }) + 10;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
