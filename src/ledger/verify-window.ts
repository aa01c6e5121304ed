/**
 * Guard's window of records, as the branch's history added them. The tip's tree lists every
 * record, but anyone who can push can also push a commit that removes a record file or rewrites
 * it (a revert deleted, so the skip it ended looks in force again; a revert's bytes spoiled, so it
 * no longer counts). No reader believes such a commit (it adds no record), so what counts is what
 * each record's own commit added: guard walks back along the first-parent chain from the tip,
 * over the commits that touch `records/`, until it has passed the commit that added every record
 * file of the window, and takes each file's content from that commit, in that order. A shallow
 * checkout (what CI makes) is deepened once, by as many commits as the window holds records plus
 * some slack; history still too short (a flood of junk commits) is reported, and guard runs the
 * stage.
 */
import { FailedError } from "../errors.js";
import { fetchBranches, type RepoInfo } from "../git/repo.js";
import { git } from "../git/run.js";

/** Junk commits tolerated among the window's commits before guard gives up (fail closed). */
const slackCommits = 64;

export type WindowHistory =
  | {
      files: Map<string, string>;
      /** The record files (`.json`), oldest first, in the order their commits added them. */
      order: string[];
      rewritten: { commit: string; path: string }[];
    }
  | { problem: string };

/**
 * The files under `records/` (path → blob id) as first added along the first-parent chain from
 * `tip`, back to the commits that added every path of `needed` (what the tip's tree lists for the
 * window, and the newest record before it) and, with `onePast`, one record commit more: the
 * record the oldest of them follows, which may have been removed from the tree since. Commits that removed or changed a record file are listed in
 * `rewritten` (their change is ignored).
 */
export async function windowFromHistory(
  repo: RepoInfo,
  o: {
    remote: string;
    branch: string;
    auditRef: string;
    tip: string;
    shallow: boolean;
    needed: readonly string[];
    /** Walk one record commit past the last needed one (when the tree holds no record before the window). */
    onePast: boolean;
    /**
     * `-c` settings for the deepening fetch: the snapshot's blob filter, given to this fetch alone
     * so that nothing is recorded in the checkout's config (`--filter` would record it).
     */
    fetchConfig: readonly string[];
  },
): Promise<WindowHistory> {
  const needed = new Set(o.needed);
  const maxCommits = needed.size + slackCommits + 2;
  if (o.shallow) {
    const deepened = await fetchBranches(
      repo.root,
      o.remote,
      [[o.branch, o.auditRef]],
      [`--depth=${maxCommits + 1}`, "--refmap="],
      o.fetchConfig,
    );
    if (!deepened.ok) {
      // Not an answer: the stage runs either way, and the pipeline is told something is wrong.
      throw new FailedError(`cannot fetch audit records from ${o.remote}: ${deepened.message}`, {
        hint: "check the connection to the remote and run the command again",
      });
    }
  }
  const boundary = await shallowCommits(repo.commonDir);
  const log = await git(
    [
      "log",
      "--first-parent",
      "--no-renames",
      "--raw",
      "--no-abbrev",
      "--format=commit %H",
      `--max-count=${maxCommits}`,
      o.tip,
      "--",
      "records/",
    ],
    { cwd: repo.root },
  );
  const files = new Map<string, string>();
  /** How far back (in commits walked) each record file was added. */
  const back = new Map<string, number>();
  let walked = 0;
  const rewritten: { commit: string; path: string }[] = [];
  let commit = "";
  let commits = 0;
  let complete = false;
  /** Every needed path was seen added: one more record commit, and the walk is done. */
  let pastNeeded = false;
  let changes: { status: string; path: string; oid: string }[] = [];
  const settle = (): boolean => {
    // A shallow boundary has no parent here: git shows its whole tree as added. Stop before it.
    if (!commit || boundary.has(commit)) return false;
    walked++;
    for (const c of changes) {
      if (c.status === "A") {
        // Walking back: an earlier add of the same path (put back after a removal) wins.
        files.set(c.path, c.oid);
        back.set(c.path, walked);
        needed.delete(c.path);
      } else {
        rewritten.push({ commit, path: c.path });
      }
    }
    const addsRecord = changes.some((c) => c.status === "A" && c.path.endsWith(".json"));
    if (pastNeeded && addsRecord) complete = true;
    else if (needed.size === 0) {
      if (o.onePast) pastNeeded = true;
      else complete = true;
    }
    return true;
  };
  for (const line of log.stdout.toString("utf8").split("\n")) {
    if (line.startsWith("commit ")) {
      if (commit && !settle()) break;
      if (complete) break;
      commit = line.slice("commit ".length);
      commits++;
      changes = [];
      continue;
    }
    // ":100644 100644 <old> <new> M\trecords/…"
    const m = /^:\d+ \d+ [0-9a-f]+ ([0-9a-f]+) ([A-Z])\d*\t(.+)$/.exec(line);
    if (m) changes.push({ oid: m[1]!, status: m[2]!, path: m[3]! });
  }
  // The end of the log without a shallow boundary: the branch's first commit. Nothing came before.
  if (!complete && commit && commits < maxCommits && settle() && needed.size === 0) complete = true;
  if (!complete) {
    return {
      problem: `the audit branch's last ${maxCommits} commits do not hold the commits that added the window's records (junk commits, or history cut short)`,
    };
  }
  const order = [...back.entries()]
    .filter(([path]) => path.endsWith(".json"))
    .sort((a, b) => b[1] - a[1])
    .map(([path]) => path);
  return { files, order, rewritten };
}

async function shallowCommits(commonDir: string): Promise<Set<string>> {
  const { readFile } = await import("node:fs/promises");
  const { join } = await import("node:path");
  try {
    return new Set((await readFile(join(commonDir, "shallow"), "utf8")).split("\n").filter(Boolean));
  } catch {
    return new Set();
  }
}
