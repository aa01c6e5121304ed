/**
 * A repository as a user has it before `optout init`: a clone with an `origin` (a local bare
 * remote, or a forge-looking URL that is never contacted), a home with an ed25519 key, and the
 * built CLI to run in it.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { TestKey } from "../helpers/keys.js";
import { git, type RunResult, runCli } from "../helpers/world.js";

const exec = promisify(execFile);

export interface Fresh {
  dir: string;
  /** The clone optout init runs in. */
  work: string;
  remote: string;
  home: string;
  key: TestKey | undefined;
  env: Record<string, string>;
  init(...args: string[]): Promise<RunResult>;
  run(args: string[], extraEnv?: Record<string, string>): Promise<RunResult>;
  cleanup(): Promise<void>;
}

/** `keyComment: null`: no key at all. */
export async function freshRepo(
  o: { origin?: string; keyComment?: string | null; extraEnv?: Record<string, string> } = {},
): Promise<Fresh> {
  const dir = await mkdtemp(join(tmpdir(), "optout-init-"));
  const home = join(dir, "home");
  await mkdir(join(home, ".ssh"), { recursive: true });
  await writeFile(join(home, ".gitconfig"), "[user]\n\tname = Dana\n\temail = dana@example.com\n");
  // ~/.ssh/id_ed25519, where optout looks when OPTOUT_SIGNING_KEY is not set; its comment is
  // what ssh-keygen -C wrote, as a user's would be.
  let key: TestKey | undefined;
  if (o.keyComment !== null) {
    const privatePath = join(home, ".ssh", "id_ed25519");
    const comment = o.keyComment ?? "dana@example.com";
    await exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", privatePath]);
    const publicLine = (await readFile(`${privatePath}.pub`, "utf8")).trim();
    key = { privatePath, publicPath: `${privatePath}.pub`, publicLine };
  }
  const remote = join(dir, "remote.git");
  await exec("git", ["init", "-q", "--bare", "-b", "main", remote]);
  const work = join(dir, "work");
  await exec("git", ["init", "-q", "-b", "main", work]);
  await git(work, "remote", "add", "origin", o.origin ?? remote);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: home,
    NO_COLOR: "1",
    GIT_CONFIG_NOSYSTEM: "1",
    ...o.extraEnv,
  };
  const run = (args: string[], extraEnv: Record<string, string> = {}) =>
    runCli(args, { cwd: work, env: { ...env, ...extraEnv } });
  return {
    dir,
    work,
    remote,
    home,
    key,
    env,
    run,
    init: (...args) => run(["init", ...args]),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
