/**
 * The whole audit branch, read for the evaluator: every commit of its first-parent chain with its
 * record, the shape checks only the commit can tell (a merge, extra files, trailers, canonical
 * bytes) and the key that signed it. What signed what never changes, so each commit is read and
 * its signature checked once per clone: `.git/optout/ledger-cache/` keeps them, and later reads
 * take only the commits since (whether a key is trusted is decided afresh every time, from the
 * allowed_signers of today).
 */
import { createHash } from "node:crypto";
import { appendFile, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ChainContext, CommitEntry, KeyTrust } from "../core/chain.js";
import type { Policy } from "../core/policy.js";
import type { LedgerRecord } from "../core/record.js";
import { LedgerEvaluator } from "../core/state.js";
import type { RepoInfo } from "../git/repo.js";
import { isAncestor } from "../git/repo.js";
import { type AllowedSigner, matchesLiteral, principalsForKey } from "./allowed-signers.js";
import { canonicalize } from "./canonical.js";
import { type HistoryEntry, readHistory } from "./history.js";
import { verifySshsigAsync } from "./sshsig.js";
import { recordPath } from "./store.js";
import { parseTrailers } from "./trailers.js";

/** Which branch of which clone: what the cache is kept for. */
export interface BranchAt {
  repo: RepoInfo;
  remote: string;
  branch: string;
}

const recordFile = /^records\/\d{4}\/\d{2}\/\d{2}\/[0-9A-HJKMNP-TV-Z]{26}\.json$/;

/** allowed_signers as the evaluator asks it. */
export function keyTrust(signers: readonly AllowedSigner[], namespace: string): KeyTrust {
  return {
    principalsFor: (key, at) => principalsForKey([...signers], Buffer.from(key), namespace, at),
    keysOf: (principal) => signers.filter((s) => matchesLiteral(s, principal)).map((s) => s.blob),
  };
}

export function chainContext(
  policy: Pick<Policy, "provider" | "signers" | "audit">,
  repo: string,
  signers: readonly AllowedSigner[],
): ChainContext {
  return {
    repo,
    provider: policy.provider,
    signers: policy.signers,
    keys: keyTrust(signers, policy.audit.namespace),
  };
}

/** What only the commit can tell about itself: why it cannot carry a record, if it cannot. */
function shapeProblems(
  e: HistoryEntry,
  record: LedgerRecord | undefined,
  text: string | undefined,
): string[] {
  const out: string[] = [];
  if (e.parents.length > 1) out.push("commit is a merge; the audit branch must be a single chain");
  for (const c of e.changes) {
    const own = c.status === "A" && (c.path === e.recordPath || c.path === `${e.recordPath}.sig`);
    const index = c.path === "state/active.json" && (c.status === "A" || c.status === "M");
    if (own || index) continue;
    const what = c.status === "D" ? "deletes" : c.status === "M" ? "modifies" : "adds";
    out.push(`commit ${what} ${c.path}; a record commit only adds its record and signature`);
  }
  if (!e.recordPath) {
    out.push("commit adds no record");
    return out;
  }
  if (!record || text === undefined) {
    out.push(e.recordBytes ? "record is not valid JSON" : "record file cannot be read");
    return out;
  }
  let canonical: string | undefined;
  try {
    canonical = canonicalize(record);
  } catch {
    canonical = undefined;
  }
  if (canonical !== text) out.push("record is not in canonical form (RFC 8785)");
  const id = typeof record.id === "string" ? record.id : "";
  let expected: string | undefined;
  try {
    expected = recordPath(id).path;
  } catch {
    expected = undefined;
  }
  if (!recordFile.test(e.recordPath) || expected !== e.recordPath) {
    out.push(`record id ${JSON.stringify(id)} does not match its path ${e.recordPath}`);
  }
  const trailers = parseTrailers(e.message);
  if (trailers["Optout-Seq"] !== String(record.seq) || trailers["Optout-Record"] !== e.recordPath) {
    out.push("commit trailers do not match the record");
  }
  return out;
}

/** A cached entry: one line of the cache file. */
interface Cached {
  c: string;
  s: string[];
  p?: string;
  /** The record's bytes, as text. */
  b?: string;
  /** The signing key (base64 SSH wire format), or why the signature does not verify. */
  k?: string;
  e?: string;
}

function toEntry(c: Cached): CommitEntry {
  let record: LedgerRecord | undefined;
  if (c.b !== undefined) {
    try {
      record = JSON.parse(c.b) as LedgerRecord;
    } catch {
      record = undefined;
    }
  }
  return {
    commit: c.c,
    shape: c.s,
    ...(c.p ? { path: c.p } : {}),
    ...(record ? { record } : {}),
    ...(c.b !== undefined
      ? { hash: `sha256:${createHash("sha256").update(c.b, "utf8").digest("hex")}` }
      : {}),
    ...(c.k
      ? { signature: { ok: true as const, key: Buffer.from(c.k, "base64") } }
      : c.e
        ? { signature: { ok: false as const, reason: c.e } }
        : {}),
  };
}

interface CacheFiles {
  entries: string;
  meta: string;
}

function cacheFiles(store: BranchAt): CacheFiles {
  const name = createHash("sha256").update(`${store.remote}\0${store.branch}`).digest("hex").slice(0, 16);
  const dir = join(store.repo.commonDir, "optout", "ledger-cache");
  return { entries: join(dir, `${name}.ndjson`), meta: join(dir, `${name}.json`) };
}

async function readCache(
  files: CacheFiles,
  namespace: string,
): Promise<{ tip: string; count: number; cached: Cached[] } | undefined> {
  try {
    const meta = JSON.parse(await readFile(files.meta, "utf8")) as {
      v: number;
      tip: string;
      count: number;
      ns: string;
    };
    if (meta.v !== 1 || meta.ns !== namespace || !/^[0-9a-f]{40,64}$/.test(meta.tip)) return undefined;
    const lines = (await readFile(files.entries, "utf8")).split("\n").filter(Boolean);
    if (lines.length < meta.count) return undefined;
    const cached = lines.slice(0, meta.count).map((l) => JSON.parse(l) as Cached);
    return { tip: meta.tip, count: meta.count, cached };
  } catch {
    return undefined; // none yet, or unreadable: read the branch from its start
  }
}

async function writeCache(
  files: CacheFiles,
  namespace: string,
  tip: string,
  from: number,
  all: Cached[],
): Promise<void> {
  try {
    await mkdir(join(files.meta, ".."), { recursive: true });
    const lines = all
      .slice(from)
      .map((c) => `${JSON.stringify(c)}\n`)
      .join("");
    if (from === 0) await writeFile(files.entries, lines);
    else if (lines) await appendFile(files.entries, lines);
    const tmp = `${files.meta}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ v: 1, tip, count: all.length, ns: namespace }));
    await rename(tmp, files.meta);
  } catch {
    // A cache: a read-only checkout or a full disk only costs the next reader a full read.
    await rm(`${files.meta}.${process.pid}.tmp`, { force: true }).catch(() => {});
  }
}

/**
 * Every commit of the audit branch up to `tip`, oldest first, each with its signature checked
 * (the crypto only: which key made it). Reads from git only what the cache does not have.
 */
export async function readEntries(store: BranchAt, tip: string, namespace: string): Promise<CommitEntry[]> {
  const files = cacheFiles(store);
  const root = store.repo.root;
  const cache = await readCache(files, namespace);
  const base = cache && (cache.tip === tip || (await isAncestor(root, cache.tip, tip))) ? cache : undefined;
  const cached: Cached[] = base ? base.cached : [];
  if (base?.tip !== tip) {
    const verdicts: Promise<Cached>[] = [];
    await readHistory(
      root,
      base ? `${base.tip}..${tip}` : tip,
      (e) => {
        verdicts.push(checkEntry(e, namespace));
      },
      { firstParent: true },
    );
    cached.push(...(await Promise.all(verdicts)));
    await writeCache(files, namespace, tip, base ? base.count : 0, cached);
  }
  return cached.map(toEntry);
}

async function checkEntry(e: HistoryEntry, namespace: string): Promise<Cached> {
  const text = e.recordBytes?.toString("utf8");
  let record: LedgerRecord | undefined;
  if (text !== undefined) {
    try {
      record = JSON.parse(text) as LedgerRecord;
    } catch {
      record = undefined;
    }
  }
  const out: Cached = {
    c: e.commit,
    s: shapeProblems(e, record, text),
    ...(e.recordPath ? { p: e.recordPath } : {}),
  };
  if (text !== undefined) out.b = text;
  if (e.recordBytes && e.sigText) {
    const v = await verifySshsigAsync(e.recordBytes, e.sigText, namespace);
    if (v.ok) out.k = v.publicKeyBlob.toString("base64");
    else out.e = v.reason;
  } else if (e.recordPath) {
    out.e = "record has no signature file";
  }
  return out;
}

/** The evaluator over the whole branch up to `tip` (empty when the branch does not exist yet). */
export async function evaluateLedger(
  store: BranchAt,
  tip: string | undefined,
  policy: Policy,
  repo: string,
  signers: readonly AllowedSigner[],
): Promise<LedgerEvaluator> {
  const ev = new LedgerEvaluator(policy, chainContext(policy, repo, signers));
  if (!tip) return ev;
  for (const e of await readEntries(store, tip, policy.audit.namespace)) ev.add(e);
  return ev;
}
