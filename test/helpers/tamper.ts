/**
 * Rewrites an audit branch the way an attacker with push access could: edit, drop or reorder
 * record commits, then force-push. Built with stock git plumbing in a scratch index, so the
 * tampering owes nothing to optout's own code.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

export interface Step {
  message: string;
  /** path → blob id, the files this commit adds or rewrites */
  files: Map<string, string>;
}

async function g(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
  input?: string,
): Promise<string> {
  const p = exec("git", args, { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  if (input !== undefined) {
    p.child.stdin?.end(input);
  }
  return (await p).stdout.trim();
}

/** The branch's commits as steps, oldest first. */
export async function readSteps(cwd: string, ref: string): Promise<Step[]> {
  const commits = (await g(cwd, ["rev-list", "--reverse", ref])).split("\n").filter(Boolean);
  const steps: Step[] = [];
  for (const c of commits) {
    const message = await g(cwd, ["log", "-1", "--format=%B", c]);
    const raw = await g(cwd, ["diff-tree", "--root", "-r", "--no-renames", "--no-commit-id", c]);
    const files = new Map<string, string>();
    for (const line of raw.split("\n").filter(Boolean)) {
      const [meta, path] = line.split("\t");
      const parts = meta!.split(" ");
      files.set(path!, parts[3]!);
    }
    steps.push({ message, files });
  }
  return steps;
}

export async function writeBlob(cwd: string, text: string): Promise<string> {
  return g(cwd, ["hash-object", "-w", "--stdin"], {}, text);
}

export async function readBlob(cwd: string, oid: string): Promise<string> {
  return g(cwd, ["cat-file", "blob", oid]);
}

/** Replays steps as a fresh chain of commits; returns the new tip. */
export async function replay(cwd: string, steps: Step[]): Promise<string> {
  const index = join(cwd, ".git", `tamper-index-${process.pid}`);
  const env = {
    GIT_INDEX_FILE: index,
    GIT_AUTHOR_NAME: "mallory",
    GIT_AUTHOR_EMAIL: "mallory@example.com",
    GIT_COMMITTER_NAME: "mallory",
    GIT_COMMITTER_EMAIL: "mallory@example.com",
  };
  await g(cwd, ["read-tree", "--empty"], env);
  let parent: string | undefined;
  for (const s of steps) {
    for (const [path, oid] of s.files) {
      await g(cwd, ["update-index", "--add", "--cacheinfo", `100644,${oid},${path}`], env);
    }
    const tree = await g(cwd, ["write-tree"], env);
    parent = await g(cwd, ["commit-tree", tree, ...(parent ? ["-p", parent] : []), "-m", s.message], env);
  }
  return parent!;
}

export async function forcePush(cwd: string, commit: string, branch = "optout/audit"): Promise<void> {
  await g(cwd, ["push", "-q", "--force", "origin", `${commit}:refs/heads/${branch}`]);
}

export function recordPathOf(step: Step): string {
  return [...step.files.keys()].find((p) => p.startsWith("records/") && p.endsWith(".json"))!;
}
