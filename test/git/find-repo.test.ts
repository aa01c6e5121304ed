/**
 * openRepo finds the repository from its files (a git process saved on guard's path) and must
 * agree with `git rev-parse` wherever it answers; where the layout is unusual it answers nothing
 * and git decides. markPromisor writes the one config line guard needs without a git process.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findRepo, markPromisor, openRepo } from "../../src/git/repo.js";

const exec = promisify(execFile);
const git = async (cwd: string, ...args: string[]) => (await exec("git", args, { cwd })).stdout.trim();

let dir: string;
beforeAll(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), "optout-find-repo-")));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** What git says, in openRepo's terms. */
async function byGit(cwd: string) {
  const [root, common, format] = (
    await git(cwd, "rev-parse", "--show-toplevel", "--git-common-dir", "--show-object-format=storage")
  ).split("\n");
  return {
    root,
    commonDir: await realpath(common!.startsWith("/") ? common! : join(cwd, common!)),
    objectFormat: format,
  };
}

describe("finding the repository without git", () => {
  it("agrees with git in a clone, a subdirectory, a linked worktree and a sha256 repository", async () => {
    const main = join(dir, "main");
    await exec("git", ["init", "-q", main]);
    await git(main, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "--allow-empty", "-m", "c");
    await mkdir(join(main, "a", "b"), { recursive: true });
    await git(main, "worktree", "add", "-q", join(dir, "wt"), "-b", "wt");
    const sha256 = join(dir, "sha256");
    await exec("git", ["init", "-q", "--object-format=sha256", sha256]);
    for (const cwd of [main, join(main, "a", "b"), join(dir, "wt"), sha256]) {
      const found = findRepo(cwd, {});
      expect(found, cwd).toBeDefined();
      expect({ ...found!, commonDir: await realpath(found!.commonDir) }).toEqual(await byGit(cwd));
    }
    expect(findRepo(sha256, {})?.objectFormat).toBe("sha256");
  });

  it("leaves unusual layouts to git: inside .git, a bare repository, GIT_DIR, a moved worktree", async () => {
    const repo = join(dir, "plain");
    await exec("git", ["init", "-q", repo]);
    expect(findRepo(join(repo, ".git"), {})).toBeUndefined();
    expect(findRepo(join(repo, ".git", "objects"), {})).toBeUndefined();
    const bare = join(repo, "remote.git");
    await exec("git", ["init", "-q", "--bare", bare]);
    expect(findRepo(bare, {})).toBeUndefined();
    expect(findRepo(repo, { GIT_DIR: join(repo, ".git") })).toBeUndefined();
    expect(findRepo(repo, { GIT_CEILING_DIRECTORIES: dir })).toBeUndefined();
    const moved = join(dir, "moved");
    await exec("git", ["init", "-q", moved]);
    await git(moved, "config", "core.worktree", dir);
    expect(findRepo(moved, {})).toBeUndefined();
    const included = join(dir, "included");
    await exec("git", ["init", "-q", included]);
    await writeFile(join(dir, "extra.gitconfig"), "[core]\n\tbare = true\n");
    await git(included, "config", "include.path", join(dir, "extra.gitconfig"));
    expect(findRepo(included, {})).toBeUndefined();
    expect(findRepo(dir, {})).toBeUndefined();
  });

  it("outside any repository, openRepo says so as before", async () => {
    const outside = join(dir, "outside");
    await mkdir(outside);
    await expect(openRepo(outside)).rejects.toThrow(/is not inside a git repository/);
  });
});

describe("marking the remote a promisor without git", () => {
  it("appends remote.<name>.promisor once, as git would, and leaves a locked or odd config alone", async () => {
    const repo = join(dir, "promisor");
    await exec("git", ["init", "-q", repo]);
    await git(repo, "remote", "add", "origin", "https://example.com/acme/shop.git");
    const gitDir = join(repo, ".git");
    expect(markPromisor(gitDir, "origin")).toBe(true);
    expect(markPromisor(gitDir, "origin")).toBe(true);
    expect(await git(repo, "config", "--get-all", "remote.origin.promisor")).toBe("true");
    expect(await git(repo, "config", "--get", "remote.origin.url")).toBe("https://example.com/acme/shop.git");
    expect(existsSync(join(gitDir, "config.lock"))).toBe(false);
    // Not a plain remote name: nothing written (the caller fetches unfiltered).
    expect(markPromisor(gitDir, 'x"]\n[core]\n\tfsmonitor = evil #')).toBe(false);
    expect(await git(repo, "config", "--get", "core.fsmonitor").catch(() => "unset")).toBe("unset");
    // Someone else holds git's lock: nothing written, and their lock stays theirs.
    await writeFile(join(gitDir, "config.lock"), "");
    expect(markPromisor(gitDir, "upstream")).toBe(false);
    expect(existsSync(join(gitDir, "config.lock"))).toBe(true);
  });
});
