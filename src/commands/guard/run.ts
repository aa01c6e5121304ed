/**
 * `optout guard <stage>`: runs in every pipeline job, so it imports little and asks git only
 * what it needs: fetch the audit branch and allowed_signers, read the index blob, verify the one
 * record it relies on. skip → exit 0; run → exit 1; anything wrong → exit ≥ 2 (fail closed).
 */
import { appendFile } from "node:fs/promises";
import type { Policy } from "../../core/policy.js";
import type { IndexEntry } from "../../core/record.js";
import { ExitCode, OptoutError, QuietExit, UsageError } from "../../errors.js";
import type { Factory } from "../../factory.js";
import { readObjects } from "../../git/objects.js";
import {
  defaultBranch,
  fetchBranch,
  fetchBranches,
  isShallow,
  partialCloneFilter,
  type RepoInfo,
  setPartialCloneFilter,
} from "../../git/repo.js";
import { parseAllowedSigners } from "../../ledger/allowed-signers.js";
import { hasPromisorPacks, historyDepth, type Ledger } from "../../ledger/store.js";
import type { TrustSource } from "../../ledger/trust.js";
import type { GuardDecision } from "../../ledger/waiver.js";
import { refForGuard, shaForGuard } from "../refs.js";

export interface GuardOptions {
  stage: string;
  ref?: string;
  sha?: string;
  format?: string;
  strict?: boolean;
}

export async function runGuard(f: Factory, o: GuardOptions): Promise<void> {
  const cleanup: { partial?: PartialFetch } = {};
  try {
    const policy = await f.policy();
    const stage = policy.stages[o.stage];
    if (!stage) {
      throw new UsageError(`unknown stage "${o.stage}"`, {
        hint: `stages in ${policy.file}: ${Object.keys(policy.stages).join(", ") || "none"}`,
      });
    }
    const repo = await f.repoInfo();
    const store = await f.ledgerStore();
    try {
      const snapshot = await readSnapshot(store, policy.audit, repo, cleanup);
      await answer(f, o, stage, policy, repo, store, snapshot);
    } finally {
      if (cleanup.partial) await restoreFilter(repo.root, cleanup.partial);
    }
  } catch (e) {
    // guard's answers are exit 0 and 1; whatever goes wrong (git failing mid-read, say) is 2, so
    // a pipeline never takes an error for an answer. The stage runs either way: fail closed.
    if (e instanceof QuietExit || (e instanceof OptoutError && e.exitCode !== ExitCode.failed)) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw new UsageError(message, {
      hint: "guard cannot tell whether the stage is waived; fail closed and run it",
      cause: e,
    });
  }
}

/** What guard's filtered fetch changed in the checkout's config, to put back. */
interface PartialFetch {
  remote: string;
  /** The filter the checkout had before (a clone made with --filter), if any. */
  own: string | undefined;
}

/**
 * git records a filtered fetch's filter for the remote's later fetches (and records it again on
 * every on-demand fetch): the job's own git commands must not inherit ours. A filter the
 * checkout had before guard ran is put back (older git replaces it). `remote.<name>.promisor`
 * stays, so what was left out can still be fetched when something asks for it.
 */
async function restoreFilter(cwd: string, p: PartialFetch): Promise<void> {
  try {
    await setPartialCloneFilter(cwd, p.remote, p.own);
  } catch {
    // Cleaning up must not turn an answer into an error; the filter only makes fetches smaller.
  }
}

async function answer(
  f: Factory,
  o: GuardOptions,
  stage: Policy["stages"][string],
  policy: Policy,
  repo: RepoInfo,
  store: Ledger,
  snapshot: Snapshot,
): Promise<void> {
  const [ref, sha, repoName] = await Promise.all([
    refForGuard(repo.root, o.ref, f.env),
    shaForGuard(repo.root, o.sha, f.env),
    f.repoName(),
  ]);
  const tip = snapshot.tip;
  let decision: GuardDecision = { skip: false, why: "no override", ignored: [] };
  // Most jobs find no skip of their stage listed: the verifier (and node:crypto with it) loads
  // only when there is one to check.
  const listed = snapshot.index.active.some(
    (e) => (e.op ?? e.type) === "skip" && e.target?.stage === o.stage,
  );
  if (tip && listed) {
    const { findWaiver } = await import("../../ledger/waiver.js");
    const allowed = (login: string) =>
      stage.allow.some((p) => p.kind === "user" && p.login === login) || policy.provider !== "git";
    decision = await findWaiver(
      store,
      tip,
      snapshot.index,
      { repo: repoName, stage: o.stage, ref, sha, now: f.now() },
      snapshot.trust,
      policy.audit.namespace,
      allowed,
    );
  }
  // --strict (with review.required): a waived stage still runs while earlier skips of it are
  // overdue for review, so reviews cannot be put off forever. Fail closed: say run, and why.
  const overdue =
    o.strict && decision.skip && tip
      ? await overdueSkips(f, store, repo, policy.audit.remote, policy.audit.branch, tip, o.stage)
      : [];
  const skip = decision.skip && overdue.length === 0;
  if (o.format === "github" && f.env.GITHUB_OUTPUT) {
    await appendFile(f.env.GITHUB_OUTPUT, `skip=${skip}\n`);
  }
  if (f.io.json) {
    f.io.printJson(
      skip && decision.skip
        ? {
            stage: o.stage,
            ref,
            sha,
            decision: "skip",
            override: decision.record.id,
            expiresAt: decision.record.expiresAt,
            actor: decision.record.actor.login,
            reason: decision.record.reason,
          }
        : {
            stage: o.stage,
            ref,
            sha,
            decision: "run",
            ignored: decision.skip ? [] : decision.ignored,
            ...(overdue.length
              ? { overdueReviews: overdue.map((r) => ({ id: r.record.id, dueAt: r.dueAt })) }
              : {}),
          },
    );
  } else {
    f.io.out(skip ? "skip" : "run");
    if (skip && decision.skip) {
      const r = decision.record;
      f.io.err(
        `optout: ${o.stage} waived by ${r.actor.login} (${r.id})${r.expiresAt ? ` until ${r.expiresAt}` : ""}`,
      );
    } else if (overdue.length) {
      const ids = overdue.map((r) => r.record.id).join(", ");
      f.io.err(
        `optout: ${o.stage} runs (--strict): ${overdue.length} skip(s) of it overdue for review: ${ids}; review with: optout review <id> --verdict … --note …`,
      );
    } else if (!decision.skip) {
      for (const i of decision.ignored) f.io.debug(`ignored ${i.id}: ${i.why}`);
    }
  }
  // "run" is an answer, not an error: exit 1 with nothing more printed.
  if (!skip) throw new QuietExit(ExitCode.failed);
}

/**
 * The skips of `stage` overdue for review. That reads the whole history, which a shallow CI
 * checkout does not have: deepen guard's own ref to the branch's whole history (else only the
 * newest record would count), then bring every record its blob-less fetch left out in one request.
 */
async function overdueSkips(
  f: Factory,
  store: Ledger,
  repo: RepoInfo,
  remote: string,
  branch: string,
  tip: string,
  stage: string,
) {
  if (isShallow(repo.commonDir)) {
    const deepened = await fetchBranch(repo.root, remote, branch, guardRefs.audit, [
      historyDepth,
      "--refmap=",
    ]);
    if (!deepened.ok) {
      const why = deepened.missing ? "the branch is gone from the remote" : deepened.message;
      throw new UsageError(`cannot fetch the audit branch's history: ${why}`, {
        hint: "guard --strict cannot tell whether reviews are overdue; fail closed and run it",
      });
    }
    await store.prefetchRecords(tip);
  }
  return (await import("../review/records.js")).overdueForStage(f, stage);
}

/** Where guard's own fetch lands in a shallow checkout (outside refs/remotes: see readSnapshot). */
const guardRefs = { audit: "refs/optout/guard/audit", default: "refs/optout/guard/default" };

interface Snapshot {
  tip: string | undefined;
  index: { active: IndexEntry[] };
  trust: TrustSource;
}

/**
 * One fetch (audit branch and default branch together) and one object read (the audit tip, its
 * index, and allowed_signers): guard's whole view of the world in two git processes.
 */
async function readSnapshot(
  store: Ledger,
  audit: Policy["audit"],
  repo: RepoInfo,
  cleanup: { partial?: PartialFetch },
): Promise<Snapshot> {
  // In a shallow checkout, as CI makes, guard fetches only the tips (the audit tip's tree holds
  // every record) and without blobs: it reads a handful of them, fetched in one request below.
  // Both land in refs of its own, so the job's refs (origin/main above all) never point at
  // commits with blobs left out. A full clone is left full: a depth-1 fetch would make the
  // developer's repository shallow.
  const shallow = isShallow(repo.commonDir);
  // Only a checkout that is partial already can have a filter of its own to keep (no git
  // process for the common case: a plain shallow checkout).
  const wasPartial = hasPromisorPacks(repo.commonDir);
  const [branch, ownFilter] = await Promise.all([
    defaultBranch(repo.root, audit.remote, repo.commonDir),
    shallow && wasPartial ? partialCloneFilter(repo.root, audit.remote) : undefined,
  ]);
  if (!branch) {
    throw new UsageError(`cannot tell the default branch of remote "${audit.remote}"`, {
      hint: `check the remote (git remote -v), or run: git remote set-head ${audit.remote} --auto`,
    });
  }
  const defaultRef = shallow ? guardRefs.default : `refs/remotes/${audit.remote}/${branch}`;
  const auditRef = shallow ? guardRefs.audit : store.trackingRef;
  // --refmap= : without it git also moves refs/remotes/<remote>/<branch> ("opportunistic update").
  const args = shallow ? ["--depth=1", "--filter=blob:none", "--refmap="] : [];
  if (shallow) cleanup.partial = { remote: audit.remote, own: ownFilter };
  let fetched = await fetchBranches(
    repo.root,
    audit.remote,
    [
      [audit.branch, auditRef],
      [branch, defaultRef],
    ],
    args,
  );
  let auditExists = true;
  if (!fetched.ok && fetched.missing) {
    auditExists = false;
    fetched = await fetchBranches(repo.root, audit.remote, [[branch, defaultRef]], args);
  }
  if (!fetched.ok) {
    // An error, not an answer: exit 2, so the pipeline decides (running the stage is the advice).
    throw new UsageError(`cannot fetch the audit branch from ${audit.remote}: ${fetched.message}`, {
      hint: "guard cannot tell whether the stage is waived; fail closed and run it",
    });
  }
  // A checkout made with --filter leaves blobs out too, shallow or not.
  store.partial = shallow || wasPartial;
  const names = [`${defaultRef}:${audit.allowedSigners}`, auditRef, `${auditRef}:state/active.json`];
  const wanted = auditExists ? names : names.slice(0, 1);
  await store.prefetch(wanted.filter((n) => n.includes(":")));
  const objs = await readObjects(repo.root, wanted);
  const signers = objs.get(names[0]!);
  if (!signers) {
    throw new UsageError(`${audit.allowedSigners} is not on ${audit.remote}/${branch}`, {
      hint: "allowed signers are read from the default branch: commit the file there and push it",
    });
  }
  const trust: TrustSource = {
    branch,
    ref: defaultRef,
    path: audit.allowedSigners,
    signers: parseAllowedSigners(
      signers.data.toString("utf8"),
      `${audit.remote}/${branch}:${audit.allowedSigners}`,
    ),
  };
  const tip = auditExists ? objs.get(names[1]!)?.oid : undefined;
  let index: { active: IndexEntry[] } = { active: [] };
  try {
    const blob = objs.get(names[2]!);
    if (blob) index = JSON.parse(blob.data.toString("utf8")) as { active: IndexEntry[] };
  } catch {
    // A broken index nominates nothing; every answer below is "run".
  }
  return { tip, index: { active: Array.isArray(index.active) ? index.active : [] }, trust };
}
