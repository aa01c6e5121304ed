/**
 * `optout guard <stage>`: runs in every pipeline job. skip → exit 0; run → exit 1; anything
 * wrong → exit ≥ 2 (fail closed: the pipeline runs the stage).
 *
 * What it believes is what the evaluator says (docs/security.md, "What guard checks"): the tip's
 * commit only nominates candidates; for a candidate skip of this stage, guard reads the window of
 * records that can bear on it (from the skip's day, or its request's, to the tip), verifies each
 * against allowed_signers from the default branch, and evaluates them under the policy of the
 * default branch — the same rules `optout status` applies to the whole branch. With no candidate
 * (most jobs), it answers after one fetch and one object read.
 */
import { appendFile } from "node:fs/promises";
import type { ChainContext } from "../../core/chain.js";
import { clockToleranceMs, idTime } from "../../core/chain.js";
import type { Policy, StagePolicy } from "../../core/policy.js";
import type { IndexEntry } from "../../core/record.js";
import type { OverdueReview } from "../../core/review.js";
import type { InForce } from "../../core/state.js";
import { ExitCode, OptoutError, QuietExit, UsageError } from "../../errors.js";
import type { Factory } from "../../factory.js";
import type { RepoInfo } from "../../git/repo.js";
import { fetchSnapshot, prefetch, recordFilesSince, type Snapshot } from "../../ledger/snapshot.js";
import { forkPipeline, refForGuard, shaForGuard } from "../refs.js";
import { jobStageName } from "./stage-name.js";

export interface GuardOptions {
  stage: string;
  ref?: string;
  sha?: string;
  format?: string;
  strict?: boolean;
}

/** At most this many candidates are read: a flooded index costs a few record reads, no more. */
const maxCandidates = 3;

const day = 86_400_000;

/** The day (YYYY-MM-DD) before `ms`: a record's directory is its id's day, which may be a little earlier than its time. */
function dayBefore(ms: number): string {
  return new Date(ms - day).toISOString().slice(0, 10);
}

/** The record id a file of `records/` is named after (its `.json` or `.json.sig`). */
function idOfPath(path: string): string {
  return (path.split("/").pop() ?? "").replace(/\.json(\.sig)?$/, "");
}

export async function runGuard(f: Factory, o: GuardOptions): Promise<void> {
  let snapshot: Snapshot | undefined;
  try {
    // The working copy's draft only says where to look; what counts is the default branch's.
    const local = await f.localPolicy();
    const name = local.stages[o.stage] ? o.stage : jobStageName(o.stage);
    if (!Object.hasOwn(local.stages, name)) {
      throw new UsageError(`unknown stage "${o.stage}"`, {
        hint: `stages in ${local.file}: ${Object.keys(local.stages).join(", ") || "none"}`,
      });
    }
    const repo = await f.repoInfo();
    // Not f.ledgerStore(): that reads the policy in force, which guard reads itself, from what it
    // fetches here, and only when a skip is nominated.
    const trackingRef = `refs/remotes/${local.audit.remote}/${local.audit.branch}`;
    snapshot = await fetchSnapshot(repo, local.audit, trackingRef, f.env);
    const hashBytes = repo.objectFormat === "sha256" ? 32 : 20;
    const verdict = await decide(f, { ...o, stage: name }, local, repo, snapshot, hashBytes);
    const overdue =
      o.strict && verdict.skip
        ? await overdueSkips(f, repo, local.audit.remote, snapshot, verdict, name)
        : [];
    await answer(f, { ...o, stage: name }, verdict, overdue);
  } catch (e) {
    // guard's answers are exit 0 and 1; whatever goes wrong (git failing mid-read, say) is 2, so
    // a pipeline never takes an error for an answer. The stage runs either way: fail closed.
    if (e instanceof QuietExit || (e instanceof OptoutError && e.exitCode !== ExitCode.failed)) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw new UsageError(message, {
      hint: "guard cannot tell whether the stage is waived; fail closed and run it",
      cause: e,
    });
  } finally {
    snapshot?.reader.close();
  }
}

type Verdict =
  | {
      skip: true;
      override: InForce;
      ref: string | undefined;
      sha: string | undefined;
      /** What it was decided under, for --strict's look at the whole history. */
      policy: Policy;
      ctx: ChainContext;
    }
  | {
      skip: false;
      why: string;
      notes: { id: string; why: string }[];
      ref: string | undefined;
      sha: string | undefined;
    };

async function decide(
  f: Factory,
  o: GuardOptions,
  local: Policy,
  repo: RepoInfo,
  snap: Snapshot,
  hashBytes: number,
): Promise<Verdict> {
  const [ref, sha] = await Promise.all([
    refForGuard(repo.root, o.ref, f.env),
    shaForGuard(repo.root, o.sha, f.env),
  ]);
  const run = (why: string, notes: { id: string; why: string }[] = []): Verdict => ({
    skip: false,
    why,
    notes,
    ref,
    sha,
  });
  const fork = forkPipeline(f.env);
  if (fork) return run(`a pipeline of ${fork}, another repository: its code is not what the waiver was for`);
  if (!snap.tip) return run("no override");
  if (!ref && !sha) return run("no ref or commit to match (pass --ref or --sha)");
  const now = f.now();
  const nominated = snap.nominated ?? (await indexFile(f, snap, repo, local.audit.remote));
  const forStage = nominated.filter(
    (e) =>
      (e.op ?? e.type) === "skip" &&
      e.target?.stage === o.stage &&
      scopeMatches(e, ref, sha) &&
      idTime(e.id) <= now.getTime() + clockToleranceMs,
  );
  // The newest few nominations for this stage on this ref or commit, young enough to be in force
  // under `maxTtlMs`: first the draft's (to read everything in one request), then the policy in
  // force's, which decides.
  const pick = (maxTtlMs: number) =>
    forStage
      .filter((e) => idTime(e.id) >= now.getTime() - (maxTtlMs + clockToleranceMs))
      .sort((a, b) => (a.id < b.id ? 1 : -1))
      .slice(0, maxCandidates);
  let candidates = pick(local.stages[o.stage]!.maxTtlMs);
  if (candidates.length === 0) return run("no override");

  // A skip is a candidate: decide it as every reader would, under the default branch's policy.
  // That takes the policy and allowed_signers of the default branch, and the window: the records
  // from the one before the oldest candidate (or before its request) to the tip, as the commits
  // of the branch added them (verify-window.ts). In a shallow checkout, that is two requests: the
  // recent history (commits and trees), then every blob at once.
  const { policyPathOf, loadInForce } = await import("../../policy/in-force.js");
  const { windowFromHistory } = await import("../../ledger/verify-window.js");
  const { isShallow } = await import("../../git/repo.js");
  const shallow = isShallow(repo.commonDir);
  const since = (reachMs: number) =>
    Math.min(...candidates.map((c) => idTime(c.id))) - reachMs - clockToleranceMs;
  const readWindow = async (fromMs: number) => {
    // And the newest record before: the walk then passes the commit of every record since, even
    // one removed from the tree (the one the oldest candidate really followed). A quiet ledger
    // has none the day before: then every day is listed (the trees are here already).
    const newestBefore = (files: Map<string, string>) =>
      [...files.keys()]
        .filter((p) => p.endsWith(".json") && idTime(idOfPath(p)) < fromMs)
        .sort((a, b) => (idOfPath(a) < idOfPath(b) ? -1 : 1))
        .at(-1);
    let listed = await recordFilesSince(snap.reader, snap.tip!, dayBefore(fromMs), hashBytes);
    let before = newestBefore(listed);
    if (!before) {
      listed = await recordFilesSince(snap.reader, snap.tip!, "0000-00-00", hashBytes);
      before = newestBefore(listed);
    }
    const needed = [...listed.keys()].filter(
      (p) => idTime(idOfPath(p)) >= fromMs || (before !== undefined && p.startsWith(before)),
    );
    return windowFromHistory(repo, {
      remote: local.audit.remote,
      branch: local.audit.branch,
      auditRef: snap.auditRef,
      tip: snap.tip!,
      shallow,
      needed,
      onePast: before === undefined,
      fetchConfig: snap.fetchConfig,
    });
  };
  let windowFrom = since(local.stages[o.stage]!.approvals?.timeoutMs ?? 0);
  let history = await readWindow(windowFrom);
  if ("problem" in history) return run(`${history.problem}: run optout log --verify`);
  const defaultFiles = [policyPathOf(local, repo.root), local.audit.allowedSigners];
  const oids = await treeOids(snap, snap.defaultRef, defaultFiles, hashBytes);
  await prefetch(repo, local.audit.remote, snap.partial, [...oids.values(), ...history.files.values()]);
  const readDefault = async (path: string) => {
    const oid = oids.get(path) ?? (await treeOids(snap, snap.defaultRef, [path], hashBytes)).get(path);
    if (!oid) return undefined;
    if (!oids.has(path)) await prefetch(repo, local.audit.remote, snap.partial, [oid]);
    oids.set(path, oid);
    return (await snap.reader.read(oid))?.data;
  };
  const inForce = await loadInForce(readDefault, local, {
    root: repo.root,
    remote: local.audit.remote,
    branch: snap.branch,
    ref: snap.defaultRef,
    ...(f.globals.provider ? { provider: f.globals.provider } : {}),
    ...(f.globals.repo ? { repo: f.globals.repo } : {}),
  });
  const policy = inForce.policy;
  // The draft only said where to look: had it named another audit branch or remote than the
  // policy in force, guard would have read records the default branch does not vouch for (a
  // stale copy of the branch, pushed by anyone, holding a waiver since reverted).
  for (const key of ["branch", "remote"] as const) {
    if (policy.audit[key] !== local.audit[key]) {
      return run(
        `the working copy's policy reads the audit ${key} ${local.audit[key]}, the default branch's policy says ${policy.audit[key]}`,
      );
    }
  }
  const stage: StagePolicy | undefined = Object.hasOwn(policy.stages, o.stage)
    ? policy.stages[o.stage]
    : undefined;
  if (!stage) return run(`the default branch's policy has no stage ${o.stage}`);
  candidates = pick(stage.maxTtlMs);
  if (candidates.length === 0) return run("no override");
  // The policy in force may reach further back (an approval window the draft does not show).
  if (since(stage.approvals?.timeoutMs ?? 0) < windowFrom) {
    windowFrom = since(stage.approvals?.timeoutMs ?? 0);
    history = await readWindow(windowFrom);
    if ("problem" in history) return run(`${history.problem}: run optout log --verify`);
    await prefetch(repo, local.audit.remote, snap.partial, [...history.files.values()]);
  }
  const files = history.files;
  const records = [...files.keys()].filter((p) => p.endsWith(".json"));
  const blobs = await snap.reader.readMany([...files.values()]);
  const { verifySshsigAsync } = await import("../../ledger/sshsig.js");
  const { evaluateInOrder } = await import("../../ledger/window.js");
  const { chainContext } = await import("../../ledger/evaluate.js");
  const windowFiles = await Promise.all(
    records.map(async (path) => {
      const bytes = blobs.get(files.get(path) ?? "")?.data;
      const sig = blobs.get(files.get(`${path}.sig`) ?? "")?.data;
      if (!bytes) return undefined;
      // A record without its signature file is junk: the evaluator says so ("no signature").
      if (!sig) return { path, bytes };
      const v = await verifySshsigAsync(bytes, sig.toString("utf8"), policy.audit.namespace);
      return {
        path,
        bytes,
        signature: v.ok
          ? { ok: true as const, key: v.publicKeyBlob }
          : { ok: false as const, reason: v.reason },
      };
    }),
  );
  const repoName = policy.repo ?? (await repoFromRemote(repo.root, local.audit.remote));
  const verdict = evaluateInOrder(
    windowFiles.filter((w) => w !== undefined),
    history.order,
    policy,
    chainContext(policy, repoName, inForce.signers),
  );
  const found = verdict.ev.view(now).skipFor(o.stage, ref, sha);
  if (found) {
    return {
      skip: true,
      override: found,
      ref,
      sha,
      policy,
      ctx: chainContext(policy, repoName, inForce.signers),
    };
  }
  // Why each candidate does not count: what the evaluator found wrong with it, or what ended it.
  const view = verdict.ev.view(now);
  const { recordProblem } = await import("../../core/chain.js");
  const { entryOf } = await import("../../ledger/window.js");
  const ctx = chainContext(policy, repoName, inForce.signers);
  const notes = candidates.map((c) => {
    const alert = verdict.ev.alerts.find((a) => a.id === c.id);
    if (alert) return { id: c.id, why: alert.problem };
    const file = windowFiles.find((w) => w?.path.endsWith(`/${c.id}.json`));
    const own = file
      ? recordProblem(entryOf(file), ctx)
      : [...files.keys()].some((p) => p.endsWith(`/${c.id}.json`))
        ? "record has no signature"
        : "its record is not on the branch";
    if (own) return { id: c.id, why: own };
    const o = verdict.ev.overrides.get(c.id);
    const ended = o ? verdict.ev.targets.get(o.key)?.ended.find((e) => e.override.id === c.id) : undefined;
    if (ended)
      return {
        id: c.id,
        why: `${ended.how === "reverted" || ended.how === "expired" ? "ended" : ended.how} by ${ended.by ?? "its TTL"}`,
      };
    if (o?.expiresAt && Date.parse(o.expiresAt) <= now.getTime()) return { id: c.id, why: "expired" };
    return { id: c.id, why: o && !view.target(o.key).active ? "not in force" : "not in force here" };
  });
  // Commits that removed or rewrote record files: read past, and said, so someone looks.
  const seen = new Set<string>();
  for (const r of history.rewritten) {
    if (seen.has(r.commit)) continue;
    seen.add(r.commit);
    notes.push({
      id: `commit ${r.commit.slice(0, 12)}`,
      why: `removed or changed ${r.path}: each record is read as its own commit added it (optout log --verify)`,
    });
  }
  return run("no valid override", notes);
}

/** The repository's name from the remote's URL, for a policy that does not name it. */
async function repoFromRemote(root: string, remote: string): Promise<string> {
  const [{ remoteUrl }, { repoFromUrl }] = await Promise.all([
    import("../../git/repo.js"),
    import("../../git/repo.js"),
  ]);
  const name = repoFromUrl((await remoteUrl(root, remote)) ?? "");
  if (!name) throw new UsageError(`cannot tell the repository: set "repo" in the policy`);
  return name;
}

/** Blob ids of files of `rev`, read from its trees (present in a filtered fetch; the blobs may not be). */
async function treeOids(
  snap: Snapshot,
  rev: string,
  paths: readonly string[],
  hashBytes: number,
): Promise<Map<string, string>> {
  const { parseTree } = await import("../../git/objects.js");
  const out = new Map<string, string>();
  await Promise.all(
    paths.map(async (p) => {
      const slash = p.lastIndexOf("/");
      const tree = await snap.reader.read(slash < 0 ? `${rev}^{tree}` : `${rev}:${p.slice(0, slash)}`);
      if (tree?.type !== "tree") return;
      const e = parseTree(tree.data, hashBytes).find((x) => x.name === p.slice(slash + 1));
      if (e) out.set(p, e.oid);
    }),
  );
  return out;
}

/** The index file of a tip written before commits listed their nominations. */
async function indexFile(f: Factory, snap: Snapshot, repo: RepoInfo, remote: string): Promise<IndexEntry[]> {
  const { resolveOids } = await import("../../git/objects.js");
  const name = `${snap.auditRef}:state/active.json`;
  const oid = (await resolveOids(repo.root, [name], (await f.ledgerStore()).hashBytes)).get(name);
  if (!oid) return [];
  await prefetch(repo, remote, snap.partial, [oid]);
  try {
    const index = JSON.parse((await snap.reader.read(oid))?.data.toString("utf8") ?? "{}") as {
      active?: unknown;
    };
    return Array.isArray(index.active) ? (index.active as IndexEntry[]) : [];
  } catch {
    return []; // A broken index nominates nothing; the answer is "run".
  }
}

function scopeMatches(e: IndexEntry, ref: string | undefined, sha: string | undefined): boolean {
  const t = e.target;
  if (t.sha) return !!sha && (sha.startsWith(t.sha) || t.sha.startsWith(sha));
  return !!ref && t.ref === ref;
}

/**
 * --strict (with review.required): the skips of the stage overdue for review. That takes the whole
 * history, which a shallow checkout does not have: guard deepens its own copy of the audit branch
 * (only that branch: git reads the "infinite" depth as --unshallow, which would fetch all of main)
 * and brings every record over in one request, then evaluates the whole branch.
 */
async function overdueSkips(
  f: Factory,
  repo: RepoInfo,
  remote: string,
  snap: Snapshot,
  v: Verdict & { skip: true },
  stage: string,
): Promise<OverdueReview[]> {
  if (!v.policy.review.required || !snap.tip) return [];
  const [
    { fetchBranch, isShallow },
    { historyDepth },
    { LedgerEvaluator },
    { readEntries },
    { overdueReviews },
  ] = await Promise.all([
    import("../../git/repo.js"),
    import("../../ledger/store.js"),
    import("../../core/state.js"),
    import("../../ledger/evaluate.js"),
    import("../../core/review.js"),
  ]);
  const branch = v.policy.audit.branch;
  if (isShallow(repo.commonDir)) {
    const deepened = await fetchBranch(
      repo.root,
      remote,
      branch,
      snap.auditRef,
      [historyDepth, "--refmap="],
      snap.fetchConfig,
    );
    if (!deepened.ok) {
      const why = deepened.missing ? "the branch is gone from the remote" : deepened.message;
      throw new UsageError(`cannot fetch the audit branch's history: ${why}`, {
        hint: "guard --strict cannot tell whether reviews are overdue; fail closed and run it",
      });
    }
  }
  if (snap.partial) {
    const { git } = await import("../../git/run.js");
    const listing = await git(["ls-tree", "-r", snap.tip, "--", "records"], { cwd: repo.root });
    const oids = [...listing.stdout.toString("utf8").matchAll(/^\d+ blob ([0-9a-f]+)\t/gm)].map((m) => m[1]!);
    await prefetch(repo, remote, true, oids);
  }
  const ev = new LedgerEvaluator(v.policy, v.ctx);
  for (const e of await readEntries(
    { repo, remote, branch: `guard:${branch}` },
    snap.tip,
    v.policy.audit.namespace,
  )) {
    ev.add(e);
  }
  return overdueReviews(
    ev.valid.map((x) => x.record),
    f.now(),
    v.policy.review.withinMs,
  ).filter((r) => r.record.type === "skip" && r.record.target.stage === stage);
}

async function answer(f: Factory, o: GuardOptions, v: Verdict, overdue: OverdueReview[]): Promise<void> {
  // --strict: a waived stage still runs while earlier skips of it are overdue for review, so
  // reviews cannot be put off for ever. Fail closed: say run, and why.
  const skip = v.skip && overdue.length === 0;
  // A detached HEAD with no CI variable naming the branch (Jenkins, Buildkite): waivers given for
  // a branch cannot match, and saying "run" without a word would look like there were none.
  if (!v.ref && v.sha) {
    f.io.err(
      `optout: note: no branch to match (HEAD is detached and no CI variable names one); only skips for commit ${v.sha.slice(0, 12)} count here: pass --ref <branch>`,
    );
  }
  if (o.format === "github" && f.env.GITHUB_OUTPUT) await appendFile(f.env.GITHUB_OUTPUT, `skip=${skip}\n`);
  if (f.io.json) {
    f.io.printJson(
      skip && v.skip
        ? {
            stage: o.stage,
            ref: v.ref ?? null,
            sha: v.sha ?? null,
            decision: "skip",
            override: v.override.id,
            expiresAt: v.override.expiresAt,
            actor: v.override.login,
            reason: v.override.record.reason,
          }
        : {
            stage: o.stage,
            ref: v.ref ?? null,
            sha: v.sha ?? null,
            decision: "run",
            why: v.skip ? "overdue reviews" : v.why,
            ignored: v.skip ? [] : v.notes,
            ...(overdue.length
              ? { overdueReviews: overdue.map((r) => ({ id: r.record.id, dueAt: r.dueAt })) }
              : {}),
          },
    );
  } else {
    f.io.out(skip ? "skip" : "run");
    if (skip && v.skip) {
      const r = v.override;
      f.io.err(
        `optout: ${o.stage} waived by ${r.login} (${r.id})${r.expiresAt ? ` until ${r.expiresAt}` : ""}`,
      );
    } else if (overdue.length) {
      const ids = overdue.map((r) => r.record.id).join(", ");
      f.io.err(
        `optout: ${o.stage} runs (--strict): ${overdue.length} skip(s) of it overdue for review: ${ids}; review with: optout review <id> --verdict … --note …`,
      );
    } else if (!v.skip && v.why !== "no override") {
      // Why a waiver someone expects does not apply is said, not left to guess.
      f.io.err(`optout: ${o.stage} runs: ${v.why}`);
      for (const n of v.notes) f.io.err(`optout:   ignored ${n.id}: ${n.why}`);
    }
  }
  // "run" is an answer, not an error: exit 1 with nothing more printed.
  if (!skip) throw new QuietExit(ExitCode.failed);
}
