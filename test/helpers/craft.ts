/**
 * An insider's tools: commits appended to a bare remote's audit branch with git plumbing only
 * (hash-object, a scratch index, write-tree, commit-tree, update-ref), never through optout's
 * write path. The record is whatever the test builds, in RFC 8785 canonical JSON, signed with the
 * real `ssh-keygen -Y sign` by whichever key the test names, or not signed at all; the index, the
 * parent, the message and any extra files are the test's to choose.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type ActiveIndex, type IndexEntry, type LedgerRecord, scopeKey } from "../../src/core/record.js";
import { canonicalize } from "../../src/ledger/canonical.js";

const exec = promisify(execFile);

export const auditBranch = "refs/heads/optout/audit";

async function git(
  gitDir: string,
  args: string[],
  opts: { input?: string; env?: Record<string, string> } = {},
) {
  const p = exec("git", ["--git-dir", gitDir, ...args], {
    env: { ...process.env, ...opts.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (opts.input !== undefined) p.child.stdin?.end(opts.input);
  return (await p).stdout.trim();
}

export function sha256(bytes: string | Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

const ulidChars = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
let counter = 0;

/** A record id minted at `ms`, as optout's ULIDs are (the time in the first ten characters). */
export function idAt(ms: number): string {
  let t = ms;
  let time = "";
  for (let i = 0; i < 10; i++) {
    time = ulidChars[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  let rest = "";
  let n = ++counter * 7919 + process.pid;
  for (let i = 0; i < 16; i++) {
    rest += ulidChars[n % 32]!;
    n = Math.floor(n / 32) + i * 13;
  }
  return time + rest;
}

/** `records/YYYY/MM/DD/<id>.json`, by the time in the id. */
export function pathOf(id: string, ms: number): string {
  const d = new Date(ms);
  const mm = String(d.getUTCMonth() + 1).padStart(2, "0");
  const dd = String(d.getUTCDate()).padStart(2, "0");
  return `records/${d.getUTCFullYear()}/${mm}/${dd}/${id}.json`;
}

/** A record the chain already holds: what the next one names as `prev` and follows in `seq`. */
export interface Link {
  commit: string;
  record: LedgerRecord;
  path: string;
  hash: string;
}

/** The tip of the audit branch (undefined when it does not exist). */
export async function tipOf(remote: string): Promise<string | undefined> {
  return git(remote, ["rev-parse", "--verify", "--quiet", `${auditBranch}^{commit}`]).catch(() => undefined);
}

/** The records along the branch's first-parent chain, oldest first (commits that add none are skipped). */
export async function chainOf(remote: string, tip?: string): Promise<Link[]> {
  const from = tip ?? (await tipOf(remote));
  if (!from) return [];
  const commits = (await git(remote, ["rev-list", "--first-parent", "--reverse", from]))
    .split("\n")
    .filter(Boolean);
  const out: Link[] = [];
  for (const commit of commits) {
    const added = await git(remote, [
      "diff-tree",
      "--root",
      "--no-commit-id",
      "--name-only",
      "--diff-filter=A",
      "-r",
      commit,
    ]);
    const path = added.split("\n").find((p) => /^records\/.*\.json$/.test(p));
    if (!path) continue;
    const text = await git(remote, ["cat-file", "blob", `${commit}:${path}`]);
    try {
      out.push({ commit, path, record: JSON.parse(text) as LedgerRecord, hash: sha256(text) });
    } catch {
      // Not JSON: a junk commit, nothing a record can chain onto.
    }
  }
  return out;
}

/** The newest record on the branch, or undefined. */
export async function lastLink(remote: string): Promise<Link | undefined> {
  return (await chainOf(remote)).at(-1);
}

/** The index at the tip, parsed (an empty one when there is none). */
export async function indexAt(remote: string, commit?: string): Promise<ActiveIndex> {
  const at = commit ?? (await tipOf(remote));
  const text = at ? await git(remote, ["cat-file", "blob", `${at}:state/active.json`]).catch(() => "") : "";
  return text ? (JSON.parse(text) as ActiveIndex) : { v: 1, seq: 0, active: [], pending: [], inflight: [] };
}

export interface RecordFields extends Partial<Omit<LedgerRecord, "actor">> {
  type: LedgerRecord["type"];
  /** The login the record claims acted. */
  actor: string;
  /** ISO time the record claims. */
  time: string;
}

/**
 * A record shaped as optout writes it. `after` (default: the branch's newest record) gives `seq`
 * and `prev`; every field can be overridden, including those two.
 */
export function record(f: RecordFields, after?: Link | null): LedgerRecord {
  const ms = Date.parse(f.time);
  const isOverride = ["skip", "flag", "rollout", "failover"].includes(f.type);
  const { actor, ...rest } = f;
  return {
    v: 1,
    id: idAt(ms),
    seq: (after?.record.seq ?? 0) + 1,
    prev: after?.hash ?? null,
    op: isOverride ? (f.type as LedgerRecord["op"]) : null,
    actor: { provider: "git", login: actor, id: actor },
    signer: actor,
    repo: "acme/shop",
    target: {},
    reason: "crafted to test what optout believes",
    ticket: null,
    mechanism: null,
    before: null,
    after: null,
    expiresAt: null,
    links: {},
    outcome: "applied",
    tool: "optout/0.1.0",
    ...rest,
  } as LedgerRecord;
}

/** A skip of `stage` on `ref`, by `actor`, for `ttlMs` from its time. */
export function skipRecord(
  o: {
    stage: string;
    ref?: string;
    sha?: string;
    actor: string;
    time: string;
    ttlMs?: number;
  } & Partial<RecordFields>,
  after?: Link | null,
): LedgerRecord {
  const { stage, ref, sha, ttlMs, ...rest } = o;
  return record(
    {
      type: "skip",
      mechanism: "guard",
      target: { stage, ref: ref ?? (sha ? null : "main"), sha: sha ?? null },
      after: { waived: true },
      expiresAt: new Date(Date.parse(o.time) + (ttlMs ?? 3_600_000)).toISOString(),
      ...rest,
    },
    after,
  );
}

/** A flag override setting `flag` to `value`, by `actor`, for `ttlMs` from its time. */
export function flagRecord(
  o: {
    flag: string;
    value: string;
    env?: string | null;
    actor: string;
    time: string;
    ttlMs?: number;
  } & Partial<RecordFields>,
  after?: Link | null,
): LedgerRecord {
  const { flag, value, env, ttlMs, ...rest } = o;
  return record(
    {
      type: "flag",
      mechanism: "variable",
      target: { flag, env: env ?? null },
      params: { value },
      before: { value: null },
      after: { value },
      expiresAt: new Date(Date.parse(o.time) + (ttlMs ?? 3_600_000)).toISOString(),
      ...rest,
    },
    after,
  );
}

/** An approval of `request` (a request record), by `actor`. */
export function approveRecord(
  o: { request: LedgerRecord; actor: string; time: string } & Partial<RecordFields>,
  after?: Link | null,
): LedgerRecord {
  const { request, ...rest } = o;
  return record(
    {
      type: "approve",
      op: request.op,
      mechanism: request.mechanism,
      target: request.target,
      reason: null,
      links: { request: request.id },
      ...rest,
    },
    after,
  );
}

/**
 * The tip's index with `r` listed as optout's writer would list it: an override replaces the
 * entry of the same target; an approval joins its request's approvals.
 */
export async function indexWith(remote: string, r: LedgerRecord): Promise<ActiveIndex> {
  const index = await indexAt(remote);
  const path = pathOf(r.id, Date.parse(r.time));
  if (r.type === "approve") {
    return {
      ...index,
      seq: r.seq,
      pending: index.pending.map((e) =>
        e.id === r.links.request
          ? { ...e, approvals: [...(e.approvals ?? []), { login: r.actor.login, record: path }] }
          : e,
      ),
    };
  }
  const key = scopeKey(r.type, r.target);
  return {
    ...index,
    seq: r.seq,
    active: [...index.active.filter((e) => scopeKey(e.op ?? e.type, e.target) !== key), entryFor(r, path)],
  };
}

/** The index entry optout would list for an override record. */
export function entryFor(r: LedgerRecord, path?: string): IndexEntry {
  return {
    id: r.id,
    type: r.type,
    op: r.op,
    target: r.target,
    mechanism: r.mechanism,
    expiresAt: r.expiresAt,
    record: path ?? pathOf(r.id, Date.parse(r.time)),
    before: r.before,
    after: r.after,
    actor: r.actor.login,
    time: r.time,
  };
}

/** `ssh-keygen -Y sign -n <namespace> -f <key>` over exactly `bytes`: the armored signature. */
export async function sshSign(bytes: string, keyPath: string, namespace = "optout-audit"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "optout-craft-"));
  try {
    const file = join(dir, "record.json");
    await writeFile(file, bytes);
    await exec("ssh-keygen", ["-q", "-Y", "sign", "-f", keyPath, "-n", namespace, file]);
    return await readFile(`${file}.sig`, "utf8");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface CraftOptions {
  /** The record: an object (written as canonical JSON) or exact text. Absent: the commit adds no record. */
  record?: LedgerRecord | Record<string, unknown> | string;
  /** Private key that signs the record with ssh-keygen. Absent (and no `sig`): no signature file. */
  signWith?: string;
  /** The signature file's exact text, instead of signing. */
  sig?: string;
  namespace?: string;
  /** Where the record goes (default: records/YYYY/MM/DD/<id>.json by its id). */
  path?: string;
  /**
   * state/active.json: an object (JSON, as optout writes it), exact text, or "keep" (the parent's,
   * the default). `null` removes it.
   */
  index?: ActiveIndex | Record<string, unknown> | string | "keep" | null;
  /** Other files to write (text) or remove (null). */
  files?: Record<string, string | null>;
  /** The parent commit (default: the branch tip); null makes a root commit. */
  parent?: string | null;
  /** The commit message (default: optout's subject and trailers for the record). */
  message?: string;
  /** Commit author and committer. */
  author?: { name: string; email: string };
  /** Commit time (default: the record's time, else now). */
  commitTime?: Date;
  /** Move the branch to the new commit (default true). */
  update?: boolean;
}

export interface Crafted {
  commit: string;
  /** The record as written (when there is one), and what a next record names as `prev`. */
  link?: Link;
}

/** Appends one crafted commit to `remote`'s audit branch (a bare repository). */
export async function craft(remote: string, o: CraftOptions = {}): Promise<Crafted> {
  const tip = await tipOf(remote);
  const parent = o.parent === undefined ? tip : o.parent;
  const index = join(await mkdtemp(join(tmpdir(), "optout-craft-index-")), "index");
  const env = { GIT_INDEX_FILE: index };
  try {
    await git(remote, parent ? ["read-tree", parent] : ["read-tree", "--empty"], { env });
    // Files are written out and hashed by one `git hash-object --stdin-paths`, however many.
    const scratch = join(index, "..");
    const puts: [string, string][] = [];
    const drops: string[] = [];
    const put = async (path: string, text: string) => {
      const file = join(scratch, `blob-${puts.length}`);
      await writeFile(file, text);
      puts.push([path, file]);
    };
    const drop = (path: string) => drops.push(path);

    let link: Link | undefined;
    let text: string | undefined;
    let parsed: LedgerRecord | undefined;
    if (o.record !== undefined) {
      text = typeof o.record === "string" ? o.record : canonicalize(o.record);
      parsed = typeof o.record === "string" ? safeParse(o.record) : (o.record as LedgerRecord);
      const path =
        o.path ??
        (parsed?.id && parsed.time ? pathOf(parsed.id, idMs(parsed.id)) : `records/junk/${Date.now()}.json`);
      await put(path, text);
      const sig = o.sig ?? (o.signWith ? await sshSign(text, o.signWith, o.namespace) : undefined);
      if (sig !== undefined) await put(`${path}.sig`, sig);
      if (parsed) link = { commit: "", record: parsed, path, hash: sha256(text) };
    }
    if (o.index === null) drop("state/active.json");
    else if (o.index !== undefined && o.index !== "keep") {
      await put(
        "state/active.json",
        typeof o.index === "string" ? o.index : `${JSON.stringify(o.index, null, 1)}\n`,
      );
    }
    for (const [path, body] of Object.entries(o.files ?? {})) {
      if (body === null) drop(path);
      else await put(path, body);
    }
    const oids = puts.length
      ? (
          await git(remote, ["hash-object", "-w", "--stdin-paths"], {
            input: `${puts.map(([, f]) => f).join("\n")}\n`,
          })
        ).split("\n")
      : [];
    const lines = [
      ...puts.map(([path], i) => `100644 ${oids[i]}\t${path}`),
      ...drops.map((path) => `0 ${"0".repeat(40)}\t${path}`),
    ];
    if (lines.length)
      await git(remote, ["update-index", "--index-info"], { env, input: `${lines.join("\n")}\n` });
    const tree = await git(remote, ["write-tree"], { env });
    const when = o.commitTime ?? (parsed?.time ? new Date(parsed.time) : new Date());
    const who = o.author ?? { name: parsed?.actor?.login ?? "mallory", email: "mallory@example.com" };
    const stamp = `${Math.floor(when.getTime() / 1000)} +0000`;
    const message =
      o.message ??
      (parsed && link
        ? `optout: ${parsed.type} ${parsed.id}\n\nOptout-Seq: ${parsed.seq}\nOptout-Record: ${link.path}\n`
        : "tidy up\n");
    const commit = await git(remote, ["commit-tree", tree, ...(parent ? ["-p", parent] : []), "-F", "-"], {
      input: message,
      env: {
        GIT_AUTHOR_NAME: who.name,
        GIT_AUTHOR_EMAIL: who.email,
        GIT_AUTHOR_DATE: stamp,
        GIT_COMMITTER_NAME: who.name,
        GIT_COMMITTER_EMAIL: who.email,
        GIT_COMMITTER_DATE: stamp,
      },
    });
    if (o.update !== false) {
      await git(remote, ["update-ref", auditBranch, commit, ...(tip ? [tip] : [])]);
    }
    if (link) link.commit = commit;
    return { commit, ...(link ? { link } : {}) };
  } finally {
    await rm(join(index, ".."), { recursive: true, force: true });
  }
}

function safeParse(text: string): LedgerRecord | undefined {
  try {
    return JSON.parse(text) as LedgerRecord;
  } catch {
    return undefined;
  }
}

function idMs(id: string): number {
  let t = 0;
  for (const c of id.slice(0, 10)) t = t * 32 + ulidChars.indexOf(c);
  return t;
}

/**
 * An honest-looking append: `r` signed with `key`, chained as given, with the index `index`
 * (default: the parent's). The shape optout's own writer produces.
 */
export function append(
  remote: string,
  r: LedgerRecord,
  key: string,
  o: Omit<CraftOptions, "record" | "signWith"> = {},
) {
  return craft(remote, { record: r, signWith: key, ...o });
}

/** A commit with no record and no key: only the files given (e.g. a forged index). */
export function junk(
  remote: string,
  files: CraftOptions["files"],
  o: Omit<CraftOptions, "record" | "files"> = {},
) {
  return craft(remote, { files, ...o });
}
