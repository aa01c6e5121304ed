/**
 * Guard's bounded read of the ledger: the records of a window of days, as the commits of the
 * branch's recent history added them (verify-window.ts), evaluated in that order by the same
 * evaluator every other reader uses. What came before the window is not read: its first record
 * that counts is taken as it stands, and every later one must chain onto the last that counts.
 */
import { createHash } from "node:crypto";
import { type ChainContext, type CommitEntry, recordProblem } from "../core/chain.js";
import type { LedgerRecord } from "../core/record.js";
import { LedgerEvaluator, type PolicyView } from "../core/state.js";

/** One record file of the window, as its commit added it. */
export interface WindowFile {
  path: string;
  bytes: Buffer;
  /** The signature check (the reader verifies: which key made it, or why not). */
  signature?: CommitEntry["signature"];
}

export interface WindowVerdict {
  ev: LedgerEvaluator;
  /** Records read from the first that counts on. */
  records: number;
}

/** A window file as the evaluator reads a commit (no commit here: its shape is not known). */
export function entryOf(f: WindowFile): CommitEntry {
  let record: LedgerRecord | undefined;
  try {
    record = JSON.parse(f.bytes.toString("utf8")) as LedgerRecord;
  } catch {
    record = undefined;
  }
  return {
    commit: f.path,
    shape: [],
    path: f.path,
    ...(record ? { record } : {}),
    hash: `sha256:${createHash("sha256").update(f.bytes).digest("hex")}`,
    ...(f.signature ? { signature: f.signature } : {}),
  };
}

/**
 * The evaluator over the window's records in the order their commits added them (guard's walk of
 * the branch's history, verify-window.ts), as the whole branch is evaluated: from the first
 * record that counts on, each must chain onto the last that counts. Where two records follow the
 * same one, the commits say which came first, as they do for `optout log --verify`.
 */
export function evaluateInOrder(
  files: readonly WindowFile[],
  order: readonly string[],
  policy: PolicyView,
  ctx: ChainContext,
): WindowVerdict {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const entries = order.flatMap((p) => {
    const f = byPath.get(p);
    return f ? [entryOf(f)] : [];
  });
  const ev = new LedgerEvaluator(policy, ctx);
  const first = entries.findIndex((e) => e.record && typeof e.record === "object" && !recordProblem(e, ctx));
  if (first < 0) return { ev, records: 0 };
  ev.anchor(entries[first]!);
  for (const e of entries.slice(first + 1)) ev.add(e);
  return { ev, records: entries.length - first };
}
