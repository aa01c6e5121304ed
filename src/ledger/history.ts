/**
 * Reads the whole audit branch, oldest first: each commit with its parents, message and the
 * files it changed, plus the record and signature bytes. One `git log` and one `git cat-file`
 * whatever the length of the branch.
 */

import { readObjects } from "../git/objects.js";
import { git } from "../git/run.js";

export interface FileChange {
  status: string;
  path: string;
  oid: string;
}

export interface HistoryCommit {
  commit: string;
  parents: string[];
  message: string;
  changes: FileChange[];
}

export interface HistoryEntry extends HistoryCommit {
  /** The record file this commit adds (when it adds exactly one). */
  recordPath?: string;
  recordBytes?: Buffer;
  sigText?: string;
}

export async function readCommits(cwd: string, tip: string): Promise<HistoryCommit[]> {
  const r = await git(
    [
      "log",
      "--reverse",
      "--no-renames",
      "--raw",
      "--no-abbrev",
      "--root",
      "--format=%x1e%H%x1f%P%x1f%B%x1f",
      tip,
    ],
    { cwd },
  );
  const out: HistoryCommit[] = [];
  for (const chunk of r.stdout.toString("utf8").split("\x1e")) {
    if (!chunk.trim()) continue;
    const [commit, parents, message, rest] = chunk.split("\x1f");
    const changes: FileChange[] = [];
    for (const line of (rest ?? "").split("\n")) {
      // :100644 100644 <old> <new> M\tpath
      const m = /^:\d+ \d+ [0-9a-f]+ ([0-9a-f]+) ([A-Z])\d*\t(.+)$/.exec(line);
      if (m) changes.push({ oid: m[1]!, status: m[2]!, path: m[3]! });
    }
    out.push({
      commit: commit!.trim(),
      parents: parents!.trim() ? parents!.trim().split(" ") : [],
      message: message ?? "",
      changes,
    });
  }
  return out;
}

export async function readHistory(cwd: string, tip: string): Promise<HistoryEntry[]> {
  const commits = await readCommits(cwd, tip);
  const wanted: string[] = [];
  const entries: HistoryEntry[] = commits.map((c) => {
    const rec = c.changes.filter((f) => f.status === "A" && /^records\/.+\.json$/.test(f.path));
    const e: HistoryEntry = { ...c };
    if (rec.length === 1) {
      e.recordPath = rec[0]!.path;
      wanted.push(rec[0]!.oid);
      const sig = c.changes.find((f) => f.status === "A" && f.path === `${rec[0]!.path}.sig`);
      if (sig) wanted.push(sig.oid);
    }
    return e;
  });
  const blobs = await readObjects(cwd, wanted);
  for (const e of entries) {
    if (!e.recordPath) continue;
    const rec = e.changes.find((f) => f.path === e.recordPath)!;
    e.recordBytes = blobs.get(rec.oid)?.data;
    const sig = e.changes.find((f) => f.path === `${e.recordPath}.sig`);
    if (sig) e.sigText = blobs.get(sig.oid)?.data.toString("utf8");
  }
  return entries;
}
