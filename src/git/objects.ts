/**
 * Reading and writing git objects for the audit branch without touching the worktree or index.
 * Reads go through one `git cat-file --batch` process per call; writes compute object ids in
 * process and store loose objects directly (git reads loose and packed objects alike), so an append costs a handful
 * of object writes whatever the number of records on the branch.
 */
import { createHash } from "node:crypto";
import { unlinkSync } from "node:fs";
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { git } from "./run.js";

export type ObjectType = "blob" | "tree" | "commit";

export interface GitObject {
  oid: string;
  type: string;
  data: Buffer;
}

/** Reads objects by name (oid or `<rev>:<path>`); missing names are absent from the map. */
export async function readObjects(cwd: string, names: readonly string[]): Promise<Map<string, GitObject>> {
  const found = new Map<string, GitObject>();
  if (names.length === 0) return found;
  for (const n of names) {
    if (n.includes("\n")) throw new Error("object name with a newline");
  }
  const r = await git(["cat-file", "--batch"], { cwd, input: `${names.join("\n")}\n` });
  const out = r.stdout;
  let pos = 0;
  for (const name of names) {
    const eol = out.indexOf(10, pos);
    if (eol < 0) break;
    const header = out.toString("utf8", pos, eol);
    pos = eol + 1;
    if (header.endsWith(" missing") || header.endsWith(" ambiguous")) continue;
    const parts = header.split(" ");
    const size = Number(parts[2]);
    found.set(name, { oid: parts[0]!, type: parts[1]!, data: out.subarray(pos, pos + size) });
    pos += size + 1;
  }
  return found;
}

/**
 * Object ids of `<rev>:<path>` names, read from the trees that hold them, never from the objects
 * themselves: in a partial clone the trees are here and the blobs may not be, and asking git
 * about a missing blob (even `cat-file --batch-check`) fetches it on the spot, one at a time.
 */
export async function resolveOids(
  cwd: string,
  names: readonly string[],
  hashBytes = 20,
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const parts = names.map((name) => {
    const colon = name.indexOf(":");
    const rev = name.slice(0, colon);
    const path = name.slice(colon + 1);
    const slash = path.lastIndexOf("/");
    const tree = slash < 0 ? `${rev}^{tree}` : `${rev}:${path.slice(0, slash)}`;
    return { name, tree, base: path.slice(slash + 1), ok: colon > 0 && path !== "" };
  });
  const trees = await readObjects(cwd, [...new Set(parts.filter((p) => p.ok).map((p) => p.tree))]);
  for (const p of parts) {
    const t = p.ok ? trees.get(p.tree) : undefined;
    if (t?.type !== "tree") continue;
    const e = parseTree(t.data, hashBytes).find((x) => x.name === p.base);
    if (e) found.set(p.name, e.oid);
  }
  return found;
}

export async function readBlob(cwd: string, name: string): Promise<Buffer | undefined> {
  return (await readObjects(cwd, [name])).get(name)?.data;
}

export interface TreeEntry {
  mode: string;
  name: string;
  oid: string;
}

export function parseTree(data: Buffer, hashBytes = 20): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let pos = 0;
  while (pos < data.length) {
    const sp = data.indexOf(32, pos);
    const nul = data.indexOf(0, sp);
    const mode = data.toString("utf8", pos, sp);
    const name = data.toString("utf8", sp + 1, nul);
    const oid = data.subarray(nul + 1, nul + 1 + hashBytes).toString("hex");
    entries.push({ mode, name, oid });
    pos = nul + 1 + hashBytes;
  }
  return entries;
}

/** git sorts tree entries by name, comparing a tree's name as if it ended in "/". */
function treeSortKey(e: TreeEntry): string {
  return e.mode === "40000" ? `${e.name}/` : e.name;
}

export function serializeTree(entries: readonly TreeEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => {
    const ka = Buffer.from(treeSortKey(a));
    const kb = Buffer.from(treeSortKey(b));
    return Buffer.compare(ka, kb);
  });
  return Buffer.concat(
    sorted.flatMap((e) => [Buffer.from(`${e.mode} ${e.name}\0`), Buffer.from(e.oid, "hex")]),
  );
}

/**
 * Temp files of object writes in flight, removed if the process exits before renaming them
 * (Ctrl-C, SIGTERM): `git fsck` reports any file under objects/ that is not an object.
 */
const inFlight = new Set<string>();
let exitHookInstalled = false;

function track(tmp: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const f of inFlight) {
        try {
          unlinkSync(f);
        } catch {
          // already renamed or gone
        }
      }
    });
  }
  inFlight.add(tmp);
}

const tmpName = /^\.tmp-(\d+)-/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, it is just not ours to signal.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the temp files a writer killed outright (SIGKILL, a power cut) left behind: those of a
 * process that no longer runs. Another live writer's are left alone.
 */
export async function removeOrphanedTemps(objectsDir: string): Promise<number> {
  let removed = 0;
  let dirs: string[];
  try {
    dirs = (await readdir(objectsDir)).filter((d) => /^[0-9a-f]{2}$/.test(d));
  } catch {
    return 0;
  }
  // All directories at once: one append pays this once, and 256 reads in sequence add up.
  await Promise.all(
    dirs.map(async (d) => {
      const names = await readdir(join(objectsDir, d)).catch(() => [] as string[]);
      for (const n of names) {
        const m = tmpName.exec(n);
        if (!m || alive(Number(m[1]))) continue;
        await rm(join(objectsDir, d, n), { force: true });
        removed++;
      }
    }),
  );
  return removed;
}

export class ObjectWriter {
  private readonly hashAlgo: "sha1" | "sha256";
  private swept = false;
  constructor(
    private readonly objectsDir: string,
    objectFormat: "sha1" | "sha256" = "sha1",
  ) {
    this.hashAlgo = objectFormat;
  }

  get hashBytes(): number {
    return this.hashAlgo === "sha1" ? 20 : 32;
  }

  /** Stores a loose object (if not there yet) and returns its id. */
  async write(type: ObjectType, data: Buffer): Promise<string> {
    const raw = Buffer.concat([Buffer.from(`${type} ${data.length}\0`), data]);
    const oid = createHash(this.hashAlgo).update(raw).digest("hex");
    const dir = join(this.objectsDir, oid.slice(0, 2));
    const file = join(dir, oid.slice(2));
    try {
      await stat(file);
      return oid;
    } catch {
      // not there yet
    }
    if (!this.swept) {
      this.swept = true;
      await removeOrphanedTemps(this.objectsDir);
    }
    await mkdir(dir, { recursive: true });
    // Write to a temp name and rename, so a crash never leaves a truncated object under its id.
    const tmp = join(dir, `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
    track(tmp);
    try {
      await writeFile(tmp, deflateSync(raw), { mode: 0o444 });
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    } finally {
      inFlight.delete(tmp);
    }
    return oid;
  }
}

/**
 * One `git cat-file --batch` for a whole command: guard reads the tip, its trees and a handful of
 * blobs through it, one process however many reads. Ask only for objects that are here (in a
 * partial clone git would fetch a missing blob on the spot, one request each): trees and commits
 * are; blobs after a prefetch.
 */
export class ObjectReader {
  private readonly child: import("node:child_process").ChildProcessWithoutNullStreams;
  private buf: Buffer = Buffer.alloc(0);
  private waiting: {
    name: string;
    resolve: (o: GitObject | undefined) => void;
    reject: (e: Error) => void;
  }[] = [];
  private failed: Error | undefined;

  constructor(cwd: string, spawn: typeof import("node:child_process").spawn) {
    this.child = spawn("git", ["cat-file", "--batch"], {
      cwd,
      env: { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stdout.on("data", (chunk: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      this.drain();
    });
    const fail = (e: Error) => {
      this.failed = e;
      for (const w of this.waiting.splice(0)) w.reject(e);
    };
    this.child.on("error", fail);
    this.child.on("close", (code) => {
      if (this.waiting.length) fail(new Error(`git cat-file exited ${code ?? "on a signal"}`));
    });
    this.child.stdin.on("error", () => {
      // the close handler reports it
    });
  }

  private drain(): void {
    for (;;) {
      const w = this.waiting[0];
      if (!w) return;
      const eol = this.buf.indexOf(10);
      if (eol < 0) return;
      const header = this.buf.toString("utf8", 0, eol);
      if (header.endsWith(" missing") || header.endsWith(" ambiguous")) {
        this.buf = this.buf.subarray(eol + 1);
        this.waiting.shift();
        w.resolve(undefined);
        continue;
      }
      const [oid, type, sizeText] = header.split(" ");
      const size = Number(sizeText);
      if (this.buf.length < eol + 1 + size + 1) return;
      const data = Buffer.from(this.buf.subarray(eol + 1, eol + 1 + size));
      this.buf = this.buf.subarray(eol + 1 + size + 1);
      this.waiting.shift();
      w.resolve({ oid: oid!, type: type!, data });
    }
  }

  read(name: string): Promise<GitObject | undefined> {
    if (name.includes("\n")) return Promise.reject(new Error("object name with a newline"));
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.waiting.push({ name, resolve, reject });
      this.child.stdin.write(`${name}\n`);
    });
  }

  async readMany(names: readonly string[]): Promise<Map<string, GitObject>> {
    const out = new Map<string, GitObject>();
    const got = await Promise.all(names.map((n) => this.read(n)));
    names.forEach((n, i) => {
      const o = got[i];
      if (o) out.set(n, o);
    });
    return out;
  }

  close(): void {
    this.child.stdin.end();
  }
}
