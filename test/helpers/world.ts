/**
 * A throwaway world for end-to-end tests: a bare "remote", a clone with the policy and
 * allowed_signers pushed to main, real ed25519 keys per person, and a runner for the built CLI
 * as a child process (as users and pipelines run it).
 */
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { allowedSignersLine, makeKey, type TestKey } from "./keys.js";

const exec = promisify(execFile);
export const repoRoot = resolve(import.meta.dirname, "../..");
export const cliPath = join(repoRoot, "bin", "optout.js");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec("git", args, { cwd, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

export function basePolicy(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    provider: "git",
    repo: "acme/shop",
    defaults: { ttl: "4h", maxTtl: "24h", reason: { minLength: 15 } },
    groups: { oncall: ["user:alice", "user:bob"] },
    stages: {
      lint: { mechanism: "guard", allow: ["oncall"] },
      e2e: { mechanism: "guard", allow: ["user:alice"], maxTtl: "2h" },
    },
    ...over,
  };
}

export interface World {
  dir: string;
  remote: string;
  /** The first clone; people run optout here unless told otherwise. */
  work: string;
  keys: Record<string, TestKey>;
  env(person: string, extra?: Record<string, string>): Record<string, string>;
  run(
    person: string,
    args: string[],
    opts?: { cwd?: string; env?: Record<string, string>; input?: string },
  ): Promise<RunResult>;
  clone(name: string): Promise<string>;
  /** Commits and pushes a change to main (policy, allowed_signers) as a maintainer would. */
  pushMain(files: Record<string, string>, message: string): Promise<void>;
  cleanup(): Promise<void>;
}

export async function makeWorld(
  opts: { people?: string[]; unlisted?: string[]; policy?: Record<string, unknown>; signers?: string } = {},
): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), "optout-world-"));
  const people = opts.people ?? ["alice", "bob"];
  const keys: Record<string, TestKey> = {};
  await mkdir(join(dir, "keys"));
  for (const p of [...people, ...(opts.unlisted ?? [])]) keys[p] = await makeKey(join(dir, "keys"), p);
  const remote = join(dir, "remote.git");
  await exec("git", ["init", "-q", "--bare", "-b", "main", remote]);
  const seed = join(dir, "seed");
  await exec("git", ["init", "-q", "-b", "main", seed]);
  await git(seed, "config", "user.name", "Maintainer");
  await git(seed, "config", "user.email", "maintainer@example.com");
  const signers =
    opts.signers ?? `${people.map((p) => allowedSignersLine(p, keys[p]!.publicLine)).join("\n")}\n`;
  await mkdir(join(seed, ".optout"));
  await writeFile(join(seed, ".optout", "allowed_signers"), signers);
  await writeFile(join(seed, ".optoutrc.json"), `${JSON.stringify(opts.policy ?? basePolicy(), null, 2)}\n`);
  await writeFile(join(seed, "README"), "a project\n");
  await git(seed, "add", "-A");
  await git(seed, "commit", "-q", "-m", "policy");
  await git(seed, "remote", "add", "origin", remote);
  await git(seed, "push", "-q", "origin", "main");

  const clone = async (name: string) => {
    const path = join(dir, name);
    await exec("git", ["clone", "-q", remote, path]);
    return path;
  };
  const work = await clone("work");

  const env = (person: string, extra: Record<string, string> = {}): Record<string, string> => {
    const home = join(dir, `home-${person}`);
    return {
      PATH: process.env.PATH ?? "",
      HOME: home,
      OPTOUT_SIGNING_KEY: keys[person]?.privatePath ?? join(dir, "keys", "nobody"),
      CI: "true",
      NO_COLOR: "1",
      GIT_CONFIG_NOSYSTEM: "1",
      ...extra,
    };
  };

  return {
    dir,
    remote,
    work,
    keys,
    env,
    clone,
    run: (person, args, o = {}) =>
      runCli(args, { cwd: o.cwd ?? work, env: { ...env(person), ...o.env }, input: o.input }),
    pushMain: async (files, message) => {
      for (const [name, text] of Object.entries(files)) {
        await mkdir(join(seed, name, ".."), { recursive: true });
        await writeFile(join(seed, name), text);
      }
      await git(seed, "add", "-A");
      await git(seed, "commit", "-q", "-m", message);
      await git(seed, "push", "-q", "origin", "main");
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export function runCli(
  args: string[],
  o: { cwd: string; env: Record<string, string>; input?: string | undefined },
): Promise<RunResult> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: o.cwd,
      env: o.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolveRun({ code: code ?? -1, stdout, stderr }));
    child.stdin.on("error", () => {}); // the CLI may exit without reading its input
    child.stdin.end(o.input ?? "");
  });
}
