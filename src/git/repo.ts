/** Typed git operations over `git()`: one function per operation, no shell anywhere. */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
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
  const r = await git(["rev-parse", "--show-toplevel", "--git-common-dir", "--show-object-format=storage"], {
    cwd,
    allowFailure: true,
  });
  if (r.code !== 0) {
    throw new UsageError(`${cwd} is not inside a git repository`, {
      hint: "run optout from a clone of the repository whose pipeline you are overriding",
    });
  }
  const [root, common, format] = r.stdout.toString("utf8").trim().split("\n");
  const commonDir = isAbsolute(common!) ? common! : join(cwd, common!);
  return { root: root!, commonDir, objectFormat: format === "sha256" ? "sha256" : "sha1" };
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
): Promise<{ ok: boolean; missing: boolean; message: string }> {
  return fetchBranches(cwd, remote, [[branch, dest]], extraArgs);
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
): Promise<{ ok: boolean; missing: boolean; message: string }> {
  // No `git maintenance run --auto`: optout fetches in pipelines and emergencies, where
  // housekeeping only adds time (measured ~6% of guard).
  const args = [
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

/** The partial-clone filter git has recorded for `remote` (`remote.<name>.partialclonefilter`). */
export async function partialCloneFilter(cwd: string, remote: string): Promise<string | undefined> {
  const r = await git(["config", "--get", `remote.${remote}.partialclonefilter`], {
    cwd,
    allowFailure: true,
  });
  return r.code === 0 ? r.stdout.toString("utf8").trim() : undefined;
}

/**
 * Sets `remote.<name>.partialclonefilter`, or removes it (`undefined`) while keeping
 * `remote.<name>.promisor`: objects left out stay fetchable on demand, later fetches are whole.
 */
export async function setPartialCloneFilter(
  cwd: string,
  remote: string,
  filter: string | undefined,
): Promise<void> {
  const key = `remote.${remote}.partialclonefilter`;
  await git(filter === undefined ? ["config", "--unset-all", key] : ["config", key, filter], {
    cwd,
    allowFailure: filter === undefined,
  });
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
