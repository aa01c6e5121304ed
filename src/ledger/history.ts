/**
 * Reads the whole audit branch, oldest first: each commit with its parents, message and the
 * files it changed, plus the record and signature bytes. One `git log` streams into one
 * `git cat-file --batch` as it is read, and each entry is handed to `onEntry` as soon as its
 * blobs arrive, so a verifier can check signatures while git is still reading (log --verify is
 * bounded by git log, the blob reads and ed25519 together; overlapping them is what makes it fast).
 */
import { spawn } from "node:child_process";
import { FailedError } from "../errors.js";
import { gitErrorLine } from "../git/run.js";

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

const env = { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_PAGER: "cat", LC_ALL: "C" };

function parseCommit(chunk: string): HistoryCommit {
  const [commit, parents, message, rest] = chunk.split("\x1f");
  const changes: FileChange[] = [];
  for (const line of (rest ?? "").split("\n")) {
    // :100644 100644 <old> <new> M\tpath
    const m = /^:\d+ \d+ [0-9a-f]+ ([0-9a-f]+) ([A-Z])\d*\t(.+)$/.exec(line);
    if (m) changes.push({ oid: m[1]!, status: m[2]!, path: m[3]! });
  }
  return {
    commit: commit!.trim(),
    parents: parents!.trim() ? parents!.trim().split(" ") : [],
    message: message ?? "",
    changes,
  };
}

export async function readHistory(
  cwd: string,
  tip: string,
  onEntry?: (entry: HistoryEntry, index: number) => void,
  options: { signatures?: boolean; firstParent?: boolean } = {},
): Promise<HistoryEntry[]> {
  // Readers that only list records (log, status, report) skip the signatures: half the blobs.
  const signatures = options.signatures !== false;
  const entries: HistoryEntry[] = [];
  const catFile = spawn("git", ["cat-file", "--batch"], { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
  const log = spawn(
    "git",
    [
      "log",
      "--reverse",
      "--no-renames",
      "--raw",
      "--no-abbrev",
      "--root",
      // The chain is the first-parent line: a merge's other side is not part of the ledger.
      ...(options.firstParent ? ["--first-parent"] : []),
      "--format=%x1e%H%x1f%P%x1f%B%x1f",
      tip,
    ],
    { cwd, env, stdio: ["ignore", "pipe", "pipe"] },
  );

  // Blobs asked of cat-file, in order: which entry and which file each answer belongs to.
  const wanted: { entry: number; field: "record" | "sig" }[] = [];
  let head = 0;
  const missing = new Map<number, number>();
  const done = (i: number) => onEntry?.(entries[i]!, i);

  const addEntry = (c: HistoryCommit) => {
    const i = entries.length;
    const e: HistoryEntry = { ...c };
    entries.push(e);
    const rec = c.changes.filter((f) => f.status === "A" && /^records\/.+\.json$/.test(f.path));
    if (rec.length !== 1) return done(i);
    e.recordPath = rec[0]!.path;
    const sig = signatures
      ? c.changes.find((f) => f.status === "A" && f.path === `${e.recordPath}.sig`)
      : undefined;
    const asks = [
      { oid: rec[0]!.oid, field: "record" as const },
      ...(sig ? [{ oid: sig.oid, field: "sig" as const }] : []),
    ];
    missing.set(i, asks.length);
    for (const a of asks) wanted.push({ entry: i, field: a.field });
    catFile.stdin.write(asks.map((a) => `${a.oid}\n`).join(""));
  };

  let text = "";
  log.stdout.setEncoding("utf8");
  log.stdout.on("data", (chunk: string) => {
    text += chunk;
    const parts = text.split("\x1e");
    text = parts.pop() ?? "";
    for (const p of parts) if (p.trim()) addEntry(parseCommit(p));
  });
  let logErr = "";
  log.stderr.on("data", (d: Buffer) => (logErr += d.toString()));
  const logDone = new Promise<number>((resolve, reject) => {
    log.on("error", reject);
    log.on("close", (code) => {
      if (text.trim()) addEntry(parseCommit(text));
      catFile.stdin.end();
      resolve(code ?? 1);
    });
  });

  // cat-file answers "<oid> <type> <size>\n<content>\n" (or "<oid> missing\n"), in order.
  let buf: Buffer = Buffer.alloc(0);
  catFile.stdout.on("data", (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    let pos = 0;
    for (;;) {
      const eol = buf.indexOf(10, pos);
      if (eol < 0) break;
      const header = buf.toString("utf8", pos, eol);
      const w = wanted[head];
      if (header.endsWith(" missing")) {
        pos = eol + 1;
      } else {
        const size = Number(header.split(" ")[2]);
        if (buf.length < eol + 1 + size + 1) break;
        const data = Buffer.from(buf.subarray(eol + 1, eol + 1 + size));
        const e = entries[w!.entry]!;
        if (w!.field === "record") e.recordBytes = data;
        else e.sigText = data.toString("utf8");
        pos = eol + 1 + size + 1;
      }
      head++;
      const left = (missing.get(w!.entry) ?? 1) - 1;
      missing.set(w!.entry, left);
      if (left === 0) done(w!.entry);
    }
    buf = buf.subarray(pos);
  });
  catFile.stdin.on("error", () => {
    // cat-file exiting early shows in its exit code below.
  });
  const catDone = new Promise<number>((resolve, reject) => {
    catFile.on("error", reject);
    catFile.on("close", (code) => resolve(code ?? 1));
  });
  const [logCode, catCode] = await Promise.all([logDone, catDone]);
  if (logCode !== 0) throw new FailedError(`git log failed: ${gitErrorLine(logErr) || `exit ${logCode}`}`);
  if (catCode !== 0) throw new FailedError("git cat-file failed while reading the audit branch");
  return entries;
}
