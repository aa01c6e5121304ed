/**
 * Guard's bounded read of the ledger: the records of a window of days (the tip's tree holds every
 * record, so a depth-1 fetch has them all without history), evaluated by the same evaluator every
 * other reader uses. Without commits, the order comes from the records' own chain: each names the
 * hash of the one before. The window must hold one chain; where it holds two (an insider's record
 * that skipped past another, two writers' forks, a key removed mid-window) guard cannot tell which
 * came first and answers from nothing: the stage runs.
 */
import { createHash } from "node:crypto";
import {
  type ChainContext,
  type ChainTail,
  type CommitEntry,
  linkProblem,
  recordProblem,
} from "../core/chain.js";
import type { LedgerRecord } from "../core/record.js";
import { LedgerEvaluator, type PolicyView } from "../core/state.js";

/** One record file of the window, read from the tip's tree. */
export interface WindowFile {
  path: string;
  bytes: Buffer;
  /** The signature check (the reader verifies: which key made it, or why not). */
  signature?: CommitEntry["signature"];
}

export type WindowVerdict = { ev: LedgerEvaluator; records: number } | { anomaly: string };

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
 * The evaluator over the records of the window, in their chain's order. The first record of the
 * window is taken as it stands (what came before it is outside the window); every later one must
 * chain onto the last that counts, as on the whole branch.
 */
export function evaluateWindow(
  files: readonly WindowFile[],
  policy: PolicyView,
  ctx: ChainContext,
): WindowVerdict {
  const all = files.map(entryOf).filter((e) => e.record && typeof e.record === "object");
  const byHash = new Map(all.map((e) => [e.hash!, e]));
  const children = new Map<string, CommitEntry[]>();
  const roots: CommitEntry[] = [];
  for (const e of all) {
    const prev = e.record!.prev;
    if (typeof prev === "string" && byHash.has(prev) && prev !== e.hash) {
      const list = children.get(prev) ?? [];
      list.push(e);
      children.set(prev, list);
    } else {
      roots.push(e);
    }
  }
  const usable = (e: CommitEntry) => !recordProblem(e, ctx);
  // Where a chain of records that count starts: a root, or the first that count past junk from one.
  const starts: CommitEntry[] = [];
  for (const r of roots) {
    const queue = [r];
    const seen = new Set<string>();
    while (queue.length) {
      const e = queue.shift()!;
      if (seen.has(e.hash!)) continue;
      seen.add(e.hash!);
      if (usable(e)) starts.push(e);
      else queue.push(...(children.get(e.hash!) ?? []));
    }
  }
  const ev = new LedgerEvaluator(policy, ctx);
  if (starts.length === 0) return { ev, records: 0 };
  if (starts.length > 1) {
    return { anomaly: `the records of the window form ${starts.length} chains, not one` };
  }
  const first = starts[0]!;
  const order: CommitEntry[] = [first];
  let tail = tailOf(first, 0);
  const ids = new Set([first.record!.id]);
  let frontier = children.get(first.hash!) ?? [];
  for (let step = 1; frontier.length; step++) {
    // The next record that counts: chained onto the tail, or past records that do not count.
    const next: CommitEntry[] = [];
    const passed: CommitEntry[] = [];
    const seen = new Set<string>();
    const queue = frontier.map((e) => ({ e, parentSeq: tail.seq }));
    while (queue.length) {
      const { e, parentSeq } = queue.shift()!;
      if (seen.has(e.hash!)) continue;
      seen.add(e.hash!);
      const problem =
        recordProblem(e, ctx) ?? linkProblem(e.record!, tail, { index: tail.index, seq: parentSeq }, ids);
      if (!problem) {
        next.push(e);
        continue;
      }
      // It does not count; what chains onto it may, as writers chain past junk.
      passed.push(e);
      for (const c of children.get(e.hash!) ?? []) queue.push({ e: c, parentSeq: e.record!.seq });
    }
    if (next.length === 0) {
      // Nothing counts after the tail: what was passed over is still reported, and why.
      order.push(...passed);
      break;
    }
    if (next.length > 1) {
      return { anomaly: `records ${next.map((e) => e.record!.id).join(" and ")} both follow ${tail.id}` };
    }
    const chosen = next[0]!;
    // The evaluator sees what was chained past too (it reports it), then the record that counts.
    order.push(...passed, chosen);
    ids.add(chosen.record!.id);
    tail = tailOf(chosen, step);
    frontier = children.get(chosen.hash!) ?? [];
  }
  ev.anchor(order[0]!);
  for (const e of order.slice(1)) ev.add(e);
  return { ev, records: order.length };
}

function tailOf(e: CommitEntry, index: number): ChainTail {
  const r = e.record!;
  return { hash: e.hash!, seq: r.seq, time: Date.parse(r.time), id: r.id, index };
}
