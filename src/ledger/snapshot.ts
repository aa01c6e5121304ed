/**
 * Guard's view of the remote: one fetch (the audit branch and the default branch together), one
 * `git cat-file --batch` for every object read, and, only when a skip of the stage is nominated,
 * one more fetch for the blobs it must verify. In a shallow checkout (what CI makes) the tips come
 * without history and without blobs, into refs of guard's own (`refs/optout/guard/`), so the
 * job's refs never point at commits whose files are missing. The filter is given to that fetch
 * alone (`-c`), never recorded in the checkout's config; the remote is marked a promisor there
 * (as git would), so what was left out stays fetchable on demand and `git gc` still works.
 */
import { spawn } from "node:child_process";
import type { IndexEntry } from "../core/record.js";
import { FailedError, UsageError } from "../errors.js";
import { ObjectReader, parseTree } from "../git/objects.js";
import {
  defaultBranch,
  fetchBranches,
  fetchObjects,
  hasPromisorPacks,
  isShallow,
  markPromisor,
  type RepoInfo,
} from "../git/repo.js";
import { parseTrailers } from "./trailers.js";

export const guardRefs = { audit: "refs/optout/guard/audit", default: "refs/optout/guard/default" };

export interface Snapshot {
  /** The default branch's name, and the ref guard fetched it to. */
  branch: string;
  defaultRef: string;
  auditRef: string;
  /** The audit branch's tip commit (undefined: the branch does not exist yet). */
  tip: string | undefined;
  /**
   * What the tip's commit nominates as in force (untrusted: every one is verified); undefined when
   * the commit does not list them (an older writer): `state/active.json` has them then.
   */
  nominated: IndexEntry[] | undefined;
  reader: ObjectReader;
  /** Blobs may be missing here (a filtered fetch): fetch them before reading them. */
  partial: boolean;
  /** `-c` settings guard's fetches of the audit branch take (the filter, for that fetch alone). */
  fetchConfig: string[];
}

/**
 * The default branch's name without asking the remote when the CI says it: GitLab's
 * CI_DEFAULT_BRANCH, GitHub's event payload. Runner checkouts have no `origin/HEAD`.
 */
async function ciDefaultBranch(env: Record<string, string | undefined>): Promise<string | undefined> {
  if (env.CI_DEFAULT_BRANCH) return env.CI_DEFAULT_BRANCH;
  if (env.GITHUB_ACTIONS && env.GITHUB_EVENT_PATH) {
    try {
      const { readFile } = await import("node:fs/promises");
      const event = JSON.parse(await readFile(env.GITHUB_EVENT_PATH, "utf8")) as {
        repository?: { default_branch?: unknown };
      };
      const b = event.repository?.default_branch;
      if (typeof b === "string" && b) return b;
    } catch {
      // no payload to read: ask git
    }
  }
  return undefined;
}

export async function fetchSnapshot(
  repo: RepoInfo,
  audit: { remote: string; branch: string },
  trackingRef: string,
  env: Record<string, string | undefined>,
): Promise<Snapshot> {
  const shallow = isShallow(repo.commonDir);
  const branch =
    (await ciDefaultBranch(env)) ?? (await defaultBranch(repo.root, audit.remote, repo.commonDir));
  if (!branch) {
    throw new UsageError(`cannot tell the default branch of remote "${audit.remote}"`, {
      hint: `check the remote (git remote -v), or run: git remote set-head ${audit.remote} --auto`,
    });
  }
  const defaultRef = shallow ? guardRefs.default : `refs/remotes/${audit.remote}/${branch}`;
  const auditRef = shallow ? guardRefs.audit : trackingRef;
  // --refmap= : without it git also moves refs/remotes/<remote>/<branch> ("opportunistic update").
  // With the remote a promisor and a filter given for this fetch (-c), git records nothing.
  const filtered = shallow && markPromisor(repo.commonDir, audit.remote);
  const args = shallow ? ["--depth=1", ...(filtered ? ["--filter=blob:none"] : []), "--refmap="] : [];
  const config = filtered ? [`remote.${audit.remote}.partialclonefilter=blob:none`] : [];
  let fetched = await fetchBranches(
    repo.root,
    audit.remote,
    [
      [audit.branch, auditRef],
      [branch, defaultRef],
    ],
    args,
    config,
  );
  let exists = true;
  if (!fetched.ok && fetched.missing) {
    exists = false;
    fetched = await fetchBranches(repo.root, audit.remote, [[branch, defaultRef]], args, config);
  }
  if (!fetched.ok) {
    throw new UsageError(`cannot fetch the audit branch from ${audit.remote}: ${fetched.message}`, {
      hint: "guard cannot tell whether the stage is waived; fail closed and run it",
    });
  }
  const reader = new ObjectReader(repo.root, spawn);
  const commit = exists ? await reader.read(auditRef) : undefined;
  return {
    branch,
    defaultRef,
    auditRef,
    tip: commit?.oid,
    nominated: !commit
      ? []
      : listsNominations(commit.data.toString("utf8"))
        ? nominations(commit.data.toString("utf8"))
        : undefined,
    reader,
    // Only a checkout that is partial already (made with --filter) can lack blobs outside a shallow fetch.
    partial: shallow || hasPromisorPacks(repo.commonDir),
    fetchConfig: config,
  };
}

/** The `Optout-Active:` lines of a ledger commit's message: what its writer held in force. */
export function nominations(message: string): IndexEntry[] {
  const out: IndexEntry[] = [];
  for (const line of message.split("\n")) {
    if (!line.startsWith("Optout-Active: ")) continue;
    try {
      const e = JSON.parse(line.slice("Optout-Active: ".length)) as IndexEntry;
      if (e && typeof e.id === "string" && e.target && typeof e.target === "object") out.push(e);
    } catch {
      // A line that does not parse nominates nothing.
    }
  }
  return out;
}

/** Whether the commit's writer listed what it held in force (`Optout-Index: <n>`), as writers since 0.2 do. */
export function listsNominations(message: string): boolean {
  return parseTrailers(message)["Optout-Index"] !== undefined;
}

/** Blob ids under `dir` of the tip's tree, by path, for the day directories from `fromDay` on. */
export async function recordFilesSince(
  reader: ObjectReader,
  tip: string,
  fromDay: string,
  hashBytes: number,
): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (path: string, depth: number): Promise<void> => {
    const t = await reader.read(`${tip}:${path}`);
    if (t?.type !== "tree") return;
    const entries = parseTree(t.data, hashBytes);
    const subs: Promise<void>[] = [];
    for (const e of entries) {
      const child = `${path}/${e.name}`;
      if (depth < 3) {
        // records/YYYY/MM/DD: keep the directories whose days can reach fromDay.
        const day = child.slice("records/".length).replace(/\//g, "-");
        if (day < fromDay.slice(0, day.length)) continue;
        subs.push(walk(child, depth + 1));
      } else if (e.name.endsWith(".json") || e.name.endsWith(".json.sig")) {
        files.set(child, e.oid);
      }
    }
    await Promise.all(subs);
  };
  await walk("records", 0);
  return files;
}

/** Brings blobs over in one request, when the checkout may lack them. */
export async function prefetch(
  repo: RepoInfo,
  remote: string,
  partial: boolean,
  oids: readonly string[],
): Promise<void> {
  if (!partial || oids.length === 0) return;
  const r = await fetchObjects(repo.root, remote, [...new Set(oids)]);
  if (!r.ok) {
    throw new FailedError(`cannot fetch audit records from ${remote}: ${r.message}`, {
      hint: "check the connection to the remote and run the command again",
    });
  }
}
