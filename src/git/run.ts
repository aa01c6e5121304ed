/**
 * One small runner for git. It uses node:child_process with an argument array (never a shell)
 * rather than execa: `optout guard` runs in every pipeline job and execa alone costs ~140 ms of
 * startup, more than guard's whole budget. execa is used where its features pay (streamed user
 * commands in rollout/failover).
 */
import { spawn } from "node:child_process";
import { FailedError } from "../errors.js";

export interface GitOptions {
  cwd: string;
  input?: string | Buffer;
  env?: Record<string, string | undefined>;
  /** Return the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
}

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/**
 * The line of git's stderr that says what went wrong: the first `fatal:` or `error:` line
 * (without that prefix), else the last line. git often ends with advice ("Please make sure you
 * have the correct access rights / and the repository exists."), which alone says nothing.
 */
export function gitErrorLine(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const said = lines.find((l) => /^(fatal|error): /.test(l));
  return (said ? said.replace(/^(fatal|error): /, "") : lines.at(-1)) ?? "";
}

export class GitError extends FailedError {
  constructor(
    readonly args: readonly string[],
    readonly result: GitResult,
  ) {
    super(`git ${args[0]} failed: ${gitErrorLine(result.stderr) || `exit ${result.code}`}`);
  }
}

// Keep git from asking for credentials on a terminal or opening an editor: an emergency tool in a
// pipeline must fail, not hang.
const quietEnv = {
  GIT_TERMINAL_PROMPT: "0",
  GIT_EDITOR: "true",
  GIT_PAGER: "cat",
  LC_ALL: "C",
};

export function git(args: readonly string[], options: GitOptions): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args as string[], {
      cwd: options.cwd,
      env: { ...process.env, ...quietEnv, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
      shell: false,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) =>
      reject(new FailedError(`could not run git: ${e.message}`, { hint: "is git installed?" })),
    );
    child.on("close", (code) => {
      const result = {
        code: code ?? 1,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString("utf8"),
      };
      if (result.code !== 0 && !options.allowFailure) reject(new GitError(args, result));
      else resolve(result);
    });
    child.stdin.on("error", () => {
      // git may exit before reading all input (e.g. a missing object); the exit code tells.
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

export async function gitText(args: readonly string[], options: GitOptions): Promise<string> {
  const r = await git(args, options);
  return r.stdout.toString("utf8").trim();
}
