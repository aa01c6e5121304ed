/** Which ref and commit a skip or a guard is about: flags, then CI variables, then the checkout. */

import { readFileSync } from "node:fs";
import { requireCommitId, requireRef } from "../core/inputs.js";
import { UsageError } from "../errors.js";
import { currentBranch, remoteRefNames, resolveRef } from "../git/repo.js";
import { nearest } from "../policy/suggest.js";

export function normalizeRef(ref: string): string {
  return ref.replace(/^refs\/(heads|tags)\//, "");
}

export async function refForSkip(root: string, flag: string | undefined): Promise<string> {
  if (flag) return requireRef(normalizeRef(flag));
  const branch = await currentBranch(root);
  if (!branch) {
    throw new UsageError("cannot tell which ref to waive (HEAD is detached)", {
      hint: "pass --ref <branch>",
    });
  }
  return branch;
}

/**
 * A waiver for a ref nobody pushes is a waiver nobody uses: `--ref mian` is refused (exit 2) with
 * the nearest name, unless `--allow-missing-ref` says the branch is about to be created.
 */
export async function requireRemoteRef(root: string, remote: string, ref: string): Promise<void> {
  const { names, offline } = await remoteRefNames(root, remote);
  if (names.has(ref)) return;
  const near = nearest(ref, names);
  const where = offline ? `${remote} as this clone last saw it (cannot ask it now: ${offline})` : remote;
  throw new UsageError(`--ref ${ref} is not a branch or tag on ${where}`, {
    hint: `${near ? `did you mean ${near}? ` : ""}pass --allow-missing-ref to waive a ref that does not exist yet`,
  });
}

export async function shaForSkip(root: string, flag: string | undefined): Promise<string | null> {
  if (!flag) return null;
  requireCommitId(flag);
  const full = await resolveRef(root, flag);
  if (full) return full;
  if (/^[0-9a-f]{40}$|^[0-9a-f]{64}$/i.test(flag)) return flag.toLowerCase();
  throw new UsageError(`--sha ${flag} is not a commit in this clone`, {
    hint: "fetch it, or pass the full 40-character id",
  });
}

/** The ref a pipeline job runs for: --ref, CI variables, else the current branch. */
export async function refForGuard(
  root: string,
  flag: string | undefined,
  env: Record<string, string | undefined>,
): Promise<string | undefined> {
  if (flag) return requireRef(normalizeRef(flag));
  const ci = env.GITHUB_HEAD_REF || env.GITHUB_REF_NAME || env.CI_COMMIT_REF_NAME;
  if (ci) return normalizeRef(ci);
  return currentBranch(root);
}

export async function shaForGuard(
  root: string,
  flag: string | undefined,
  env: Record<string, string | undefined>,
): Promise<string | undefined> {
  if (flag) return (await resolveRef(root, requireCommitId(flag))) ?? flag.toLowerCase();
  const ci = env.GITHUB_SHA || env.CI_COMMIT_SHA;
  if (ci) return ci.toLowerCase();
  return resolveRef(root, "HEAD");
}

/**
 * The repository a pipeline runs for, when it is another one than this (a fork's pull request or
 * merge request): its code is not what a waiver was given for, so no waiver applies there.
 * GitHub: the pull request's head repository (event payload); GitLab: the merge request's source
 * project. Undefined for the repository's own pipelines, and outside these CIs.
 */
export function forkPipeline(env: Record<string, string | undefined>): string | undefined {
  const sourceProject = env.CI_MERGE_REQUEST_SOURCE_PROJECT_ID;
  if (sourceProject && env.CI_PROJECT_ID && sourceProject !== env.CI_PROJECT_ID) {
    return env.CI_MERGE_REQUEST_SOURCE_PROJECT_PATH || `project ${sourceProject}`;
  }
  const sourcePath = env.CI_MERGE_REQUEST_SOURCE_PROJECT_PATH;
  if (sourcePath && env.CI_PROJECT_PATH && sourcePath !== env.CI_PROJECT_PATH) return sourcePath;
  if (env.GITHUB_ACTIONS && /^pull_request/.test(env.GITHUB_EVENT_NAME ?? "")) {
    // Without the payload or the repository's name, the pull request's source is unknown: a
    // fork's, as far as guard can tell (fail closed).
    if (!env.GITHUB_EVENT_PATH || !env.GITHUB_REPOSITORY) {
      return "an unknown repository (GITHUB_EVENT_PATH or GITHUB_REPOSITORY is not set)";
    }
    try {
      const event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, "utf8")) as {
        pull_request?: { head?: { repo?: { full_name?: unknown } | null } };
      };
      const head = event.pull_request?.head?.repo?.full_name;
      // A head repository that was deleted (null) is not this repository either.
      if (head !== env.GITHUB_REPOSITORY) return typeof head === "string" ? head : "a deleted fork";
    } catch {
      // No payload to read: fail closed, the pull request's source is unknown.
      return "an unknown repository (the event payload cannot be read)";
    }
  }
  return undefined;
}
