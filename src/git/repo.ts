/** Typed git operations over `git()`: one function per operation, no shell anywhere. */
import {
  closeSync,
  existsSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { FailedError, UsageError } from "../errors.js";
import { git, gitErrorLine, gitText } from "./run.js";

export interface RepoInfo {
  /** The worktree root. */
  root: string;
  /** The common git dir (shared by worktrees): objects and optout's local state live here. */
  commonDir: string;
  objectFormat: "sha1" | "sha256";
}

export async function openRepo(cwd: string): Promise<RepoInfo> {
  // guard runs in every pipeline job: finding the repository from its files saves a git process.
  const found = findRepo(cwd, process.env);
  if (found) return found;
  const r = await git(
    [
      "rev-parse",
      "--show-toplevel",
      "--git-common-dir",
      "--absolute-git-dir",
      "--show-object-format=storage",
    ],
    { cwd, allowFailure: true },
  );
  if (r.code !== 0) {
    throw new UsageError(`${cwd} is not inside a git repository`, {
      hint: "run optout from a clone of the repository whose pipeline you are overriding",
    });
  }
  const [root, common, format] = r.stdout.toString("utf8").trim().split("\n");
  const commonDir = isAbsolute(common!) ? common! : join(cwd, common!);
  return { root: root!, commonDir, objectFormat: format === "sha256" ? "sha256" : "sha1" };
}

/**
 * The repository around `cwd` found as git finds it, from its files, for the usual layouts only:
 * a `.git` directory, or a `.git` file naming the git dir (linked worktrees, submodules), owned by
 * this user, on the same filesystem, with nothing in the environment or the config that moves the
 * worktree or the git dir. Anything else is undefined, and `git rev-parse` decides (with
 * safe.directory and everything else git knows).
 */
export function findRepo(cwd: string, env: Record<string, string | undefined>): RepoInfo | undefined {
  const moved = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
  ];
  if (moved.some((k) => env[k] !== undefined) || typeof process.getuid !== "function") return undefined;
  const uid = process.getuid();
  try {
    let dir = realpathSync(cwd);
    const device = statSync(dir).dev;
    for (;;) {
      const here = statSync(dir);
      if (here.dev !== device) return undefined;
      // A git dir itself (a bare repository, the inside of .git): git's rules, not ours.
      if (existsSync(join(dir, "HEAD")) && existsSync(join(dir, "objects"))) return undefined;
      const dotGit = join(dir, ".git");
      const st = statSync(dotGit, { throwIfNoEntry: false });
      if (st) {
        let gitDir: string;
        if (st.isDirectory()) gitDir = dotGit;
        else if (st.isFile()) {
          const m = /^gitdir: (.+)$/.exec(readFileSync(dotGit, "utf8").trim());
          if (!m) return undefined;
          gitDir = resolve(dir, m[1]!);
        } else return undefined;
        if (here.uid !== uid || statSync(gitDir).uid !== uid || !existsSync(join(gitDir, "HEAD"))) {
          return undefined;
        }
        let commonDir = gitDir;
        const common = join(gitDir, "commondir");
        if (existsSync(common)) commonDir = resolve(gitDir, readFileSync(common, "utf8").trim());
        const objectFormat = repoConfigFormat(readFileSync(join(commonDir, "config"), "utf8"));
        if (!objectFormat) return undefined;
        return { root: dir, commonDir, objectFormat };
      }
      const parent = dirname(dir);
      if (parent === dir) return undefined;
      dir = parent;
    }
  } catch {
    return undefined;
  }
}

/**
 * The object format a repository's config names, or undefined when the config does anything
 * that needs git to read it: includes, a bare or moved worktree, per-worktree config.
 */
function repoConfigFormat(config: string): "sha1" | "sha256" | undefined {
  let section = "";
  let format: "sha1" | "sha256" = "sha1";
  for (const raw of config.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"[^"]*")?\s*\]\s*(.*)$/.exec(line);
    if (header) {
      section = header[1]!.toLowerCase();
      if (section === "include" || section === "includeif" || header[2]) return undefined;
      continue;
    }
    if (line.startsWith("[")) return undefined;
    const kv = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$/.exec(line);
    if (!kv) return undefined;
    const key = `${section}.${kv[1]!.toLowerCase()}`;
    const value = (kv[2] ?? "true").trim().toLowerCase();
    if (key === "core.bare" && value !== "false") return undefined;
    if (key === "core.worktree" || key === "extensions.worktreeconfig") return undefined;
    if (key === "extensions.objectformat") {
      if (value !== "sha1" && value !== "sha256") return undefined;
      format = value;
    }
  }
  return format;
}

/** The object id a ref points at, or undefined when it does not exist. */
export async function resolveRef(cwd: string, ref: string): Promise<string | undefined> {
  // A name that starts with "-" is no ref, and git would read it as an option.
  if (ref.startsWith("-")) return undefined;
  const r = await git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { cwd, allowFailure: true });
  return r.code === 0 ? r.stdout.toString("utf8").trim() : undefined;
}

export async function currentBranch(cwd: string): Promise<string | undefined> {
  const r = await git(["symbolic-ref", "--quiet", "--short", "HEAD"], { cwd, allowFailure: true });
  return r.code === 0 ? r.stdout.toString("utf8").trim() : undefined;
}

/** The clone has no remote of that name (a fresh `git init`, a renamed remote). */
export function noSuchRemote(remote: string): UsageError {
  return new UsageError(`this clone has no remote "${remote}"`, {
    hint: `add it with \`git remote add ${remote} <url>\` (optout keeps its records there), or name another in the policy's audit.remote`,
  });
}

export async function remoteUrl(cwd: string, remote: string): Promise<string | undefined> {
  const r = await git(["remote", "get-url", remote], { cwd, allowFailure: true });
  return r.code === 0 ? r.stdout.toString("utf8").trim() : undefined;
}

/**
 * Branch and tag names on the remote (`ls-remote`), or, when it cannot be asked, those this clone
 * last saw of it (its remote-tracking branches and tags), with the reason it could not ask.
 */
export async function remoteRefNames(
  cwd: string,
  remote: string,
): Promise<{ names: Set<string>; offline?: string }> {
  const r = await git(["ls-remote", "--heads", "--tags", remote], { cwd, allowFailure: true });
  if (r.code === 0) {
    const names = new Set<string>();
    for (const line of r.stdout.toString("utf8").split("\n")) {
      const m = /\trefs\/(?:heads|tags)\/(.+?)(?:\^\{\})?$/.exec(line);
      if (m) names.add(m[1]!);
    }
    return { names };
  }
  const local = await git(["for-each-ref", "--format=%(refname)", `refs/remotes/${remote}/`, "refs/tags/"], {
    cwd,
    allowFailure: true,
  });
  const names = new Set<string>();
  for (const ref of local.stdout.toString("utf8").split("\n")) {
    const name = ref.replace(`refs/remotes/${remote}/`, "").replace("refs/tags/", "");
    if (name && name !== "HEAD") names.add(name);
  }
  return { names, offline: gitErrorLine(r.stderr) || `git exited ${r.code}` };
}

/** The URL as configured (`remote.<name>.url`), before any `insteadOf` rewriting. */
export async function configuredUrl(cwd: string, remote: string): Promise<string | undefined> {
  const r = await git(["config", "--get", `remote.${remote}.url`], { cwd, allowFailure: true });
  return r.code === 0 ? r.stdout.toString("utf8").trim() : undefined;
}

/**
 * The remote's default branch: `refs/remotes/<remote>/HEAD` when the clone knows it, otherwise
 * asked of the remote (`ls-remote --symref`), as CI checkouts often lack the symbolic ref.
 * Undefined when the remote names none (an empty repository); throws when it cannot be asked.
 */
export async function defaultBranch(
  cwd: string,
  remote: string,
  commonDir?: string,
): Promise<string | undefined> {
  // The symbolic ref is a small file (never packed): reading it saves a process on guard's path.
  if (commonDir) {
    try {
      const text = readFileSync(join(commonDir, "refs", "remotes", remote, "HEAD"), "utf8").trim();
      const prefix = `ref: refs/remotes/${remote}/`;
      if (text.startsWith(prefix)) return text.slice(prefix.length);
    } catch {
      // not there: ask git
    }
  }
  const local = await git(["symbolic-ref", "--quiet", `refs/remotes/${remote}/HEAD`], {
    cwd,
    allowFailure: true,
  });
  if (local.code === 0) {
    return local.stdout.toString("utf8").trim().replace(`refs/remotes/${remote}/`, "");
  }
  const r = await git(["ls-remote", "--symref", remote, "HEAD"], { cwd, allowFailure: true });
  if (r.code !== 0) {
    if ((await remoteUrl(cwd, remote)) === undefined) throw noSuchRemote(remote);
    // A runner checkout has no origin/HEAD, so asking the remote is the only way: when that
    // fails, the network (or the URL) is the problem, not the checkout.
    throw new FailedError(
      `cannot reach remote "${remote}": ${gitErrorLine(r.stderr) || `git exited ${r.code}`}`,
      {
        hint: `check the network and the remote's URL (git remote get-url ${remote}), then run the command again`,
      },
    );
  }
  const m = /^ref: refs\/heads\/(\S+)\s+HEAD$/m.exec(r.stdout.toString("utf8"));
  return m?.[1];
}

/** Fetches one branch of the remote into `dest`, forced (the anchor check catches rewrites). */
export function fetchBranch(
  cwd: string,
  remote: string,
  branch: string,
  dest: string,
  extraArgs: readonly string[] = [],
  config: readonly string[] = [],
): Promise<{ ok: boolean; missing: boolean; message: string }> {
  return fetchBranches(cwd, remote, [[branch, dest]], extraArgs, config);
}

/**
 * Fetches several branches in one round trip (guard: the audit branch and the default branch).
 * `missing` lists nothing: when one branch is absent git fails the whole fetch, so the caller
 * retries with fewer.
 */
export async function fetchBranches(
  cwd: string,
  remote: string,
  pairs: readonly (readonly [string, string])[],
  extraArgs: readonly string[] = [],
  /** `-c` settings for this fetch only. */
  config: readonly string[] = [],
): Promise<{ ok: boolean; missing: boolean; message: string }> {
  // No `git maintenance run --auto`: optout fetches in pipelines and emergencies, where
  // housekeeping only adds time (measured ~6% of guard).
  const args = [
    ...config.flatMap((c) => ["-c", c]),
    "fetch",
    "--quiet",
    "--no-tags",
    "--no-write-fetch-head",
    "--no-auto-maintenance",
    ...extraArgs,
    remote,
  ];
  const r = await git([...args, ...pairs.map(([b, dest]) => `+refs/heads/${b}:${dest}`)], {
    cwd,
    allowFailure: true,
  });
  if (r.code === 0) return { ok: true, missing: false, message: "" };
  const missing = /couldn't find remote ref|no such ref/i.test(r.stderr);
  return { ok: false, missing, message: gitErrorLine(r.stderr) };
}

/**
 * Fetches objects by id in one round trip: in a partial clone (guard's CI fetch) the blobs it is
 * about to read, instead of git fetching each one lazily. Objects already here cost no request.
 */
export async function fetchObjects(
  cwd: string,
  remote: string,
  oids: readonly string[],
): Promise<{ ok: boolean; message: string }> {
  if (oids.length === 0) return { ok: true, message: "" };
  // As git's own on-demand fetch does: no negotiation (there is no common history to find for
  // a blob, and upload-pack refuses blob wants mixed with the haves of a shallow clone).
  const r = await git(
    [
      "-c",
      "fetch.negotiationAlgorithm=noop",
      "fetch",
      "--quiet",
      "--no-tags",
      "--no-write-fetch-head",
      "--no-auto-maintenance",
      "--recurse-submodules=no",
      "--stdin",
      remote,
    ],
    { cwd, allowFailure: true, input: `${oids.join("\n")}\n` },
  );
  return { ok: r.code === 0, message: gitErrorLine(r.stderr) };
}

/**
 * Makes `remote` a promisor remote in the repository's config (`remote.<name>.promisor = true`),
 * as git itself does on a filtered fetch, but without a git process and without recording the
 * filter (which would make the job's own later fetches filtered): objects a filtered fetch left
 * out stay fetchable on demand, and `git gc` accepts refs to commits whose blobs are missing.
 * Appends under git's lock (`config.lock`, then rename), so a concurrent git writer fails cleanly
 * rather than losing either write. False when the name is not a plain remote name or the config
 * cannot be written: the caller then fetches unfiltered.
 */
export function markPromisor(commonDir: string, remote: string): boolean {
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(remote)) return false;
  const file = join(commonDir, "config");
  const lock = `${file}.lock`;
  let fd: number;
  try {
    const st = lstatSync(file);
    // A config that is a symlink is left to git (its lock follows the link; a rename would not).
    if (!st.isFile()) return false;
    fd = openSync(lock, "wx", st.mode & 0o777);
  } catch {
    return false;
  }
  let write = false;
  try {
    const text = readFileSync(file, "utf8");
    write = !isPromisor(text, remote);
    if (write) {
      writeSync(
        fd,
        `${text}${text.endsWith("\n") || !text ? "" : "\n"}[remote "${remote}"]\n\tpromisor = true\n`,
      );
    }
  } catch {
    closeSync(fd);
    rmSync(lock, { force: true });
    return false;
  }
  closeSync(fd);
  try {
    if (write) renameSync(lock, file);
    else rmSync(lock, { force: true });
    return true;
  } catch {
    rmSync(lock, { force: true });
    return false;
  }
}

/** Whether a config file's text already says `remote.<name>.promisor = true`. */
function isPromisor(config: string, remote: string): boolean {
  let inRemote = false;
  let promisor = false;
  for (const raw of config.split("\n")) {
    const line = raw.trim();
    const header = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]/.exec(line);
    if (header) {
      inRemote = header[1]!.toLowerCase() === "remote" && header[2] === remote;
      continue;
    }
    const kv = /^promisor\s*(?:=\s*(\S+))?\s*$/i.exec(line);
    if (inRemote && kv) promisor = ["true", "yes", "on", "1", undefined].includes(kv[1]?.toLowerCase());
  }
  return promisor;
}

/** Whether the repository holds objects fetched with a filter (a partial clone or fetch). */
export function hasPromisorPacks(commonDir: string): boolean {
  try {
    return readdirSync(join(commonDir, "objects", "pack")).some((f) => f.endsWith(".promisor"));
  } catch {
    return false;
  }
}

/** Whether the repository is shallow (a CI checkout made with a depth). */
export function isShallow(commonDir: string): boolean {
  return existsSync(join(commonDir, "shallow"));
}

export type PushOutcome =
  | { kind: "ok" }
  | { kind: "rejected"; message: string }
  | { kind: "error"; message: string };

/** Pushes a commit to a branch, never forced: a rejection means someone else appended first. */
export async function pushCommit(
  cwd: string,
  remote: string,
  commit: string,
  branch: string,
): Promise<PushOutcome> {
  const r = await git(["push", "--porcelain", "--quiet", remote, `${commit}:refs/heads/${branch}`], {
    cwd,
    allowFailure: true,
  });
  if (r.code === 0) return { kind: "ok" };
  const text = `${r.stdout.toString("utf8")}\n${r.stderr}`;
  // A non-fast-forward, or a lock held by a concurrent push on the remote: rebuild and retry.
  if (
    /\[rejected\]|non-fast-forward|fetch first|cannot lock ref|failed to lock|stale info|incorrect old value/i.test(
      text,
    )
  ) {
    return { kind: "rejected", message: lastLine(text) };
  }
  return { kind: "error", message: gitErrorLine(r.stderr) || lastLine(text) };
}

function lastLine(text: string): string {
  return text.trim().split("\n").filter(Boolean).at(-1) ?? "";
}

export async function isAncestor(cwd: string, ancestor: string, descendant: string): Promise<boolean> {
  const r = await git(["merge-base", "--is-ancestor", ancestor, descendant], { cwd, allowFailure: true });
  return r.code === 0;
}

export async function updateRef(cwd: string, ref: string, oid: string): Promise<void> {
  await git(["update-ref", ref, oid], { cwd });
}

export async function headSha(cwd: string): Promise<string | undefined> {
  return resolveRef(cwd, "HEAD");
}

/** owner/name from git@host:owner/name.git, https://host/group/sub/name.git, or a local path. */
export function repoFromUrl(url: string): string | undefined {
  const scp = /^[^/@]+@[^:]+:(.+?)(?:\.git)?\/?$/.exec(url);
  if (scp) return scp[1];
  try {
    const u = new URL(url);
    if (u.protocol !== "file:") {
      const p = u.pathname
        .replace(/^\/+/, "")
        .replace(/\.git\/?$/, "")
        .replace(/\/$/, "");
      return p || undefined;
    }
    return basenameRepo(u.pathname);
  } catch {
    return basenameRepo(url);
  }
}

function basenameRepo(path: string): string | undefined {
  const parts = path.replace(/\/+$/, "").split("/").filter(Boolean);
  const last = parts.at(-1)?.replace(/\.git$/, "");
  return last || undefined;
}

export { gitText };
