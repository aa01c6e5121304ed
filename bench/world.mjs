/**
 * A throwaway world for the bench, as test/helpers/world.ts builds for the tests but in plain
 * JavaScript (so `npm run bench` needs no TypeScript loader): a bare "remote" on local disk, a clone
 * with the policy and allowed_signers on main, and a real unencrypted ed25519 key (signing in
 * process, as in CI). Setup is synchronous: it is not what is measured.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const cliPath = join(repoRoot, "bin", "optout.js");

export const principal = "alice";

export const policy = {
  version: 1,
  provider: "git",
  repo: "acme/shop",
  defaults: { ttl: "4h", maxTtl: "24h", reason: { minLength: 15 } },
  groups: { oncall: [`user:${principal}`, "user:bob"] },
  stages: {
    lint: { mechanism: "guard", allow: ["oncall"] },
    e2e: { mechanism: "guard", allow: [`user:${principal}`], maxTtl: "2h" },
  },
};

export function git(cwd, ...args) {
  return execFileSync("git", args, { cwd, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 }).trim();
}

/** One key for the whole bench: ssh-keygen is not what is measured. */
export function makeKey(dir) {
  const path = join(dir, "alice");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", principal, "-f", path]);
  const [type, b64] = readFileSync(`${path}.pub`, "utf8").trim().split(/\s+/);
  return { path, allowedSigners: `${principal} ${type} ${b64}\n` };
}

/**
 * `dir/remote.git` (bare, main holds the policy) and `dir/work` (a clone, where optout runs).
 * The environment is the tests' one: no system git config, a private HOME, CI set (no prompts).
 */
export function makeWorld(dir, key) {
  mkdirSync(dir, { recursive: true });
  const remote = join(dir, "remote.git");
  git(dir, "init", "-q", "--bare", "-b", "main", remote);
  // GitHub and GitLab serve filtered (partial) fetches, which guard uses in shallow checkouts; a
  // bare repository does only when told to.
  git(remote, "config", "uploadpack.allowFilter", "true");
  const seed = join(dir, "seed");
  git(dir, "init", "-q", "-b", "main", seed);
  git(seed, "config", "user.name", "Maintainer");
  git(seed, "config", "user.email", "maintainer@example.com");
  mkdirSync(join(seed, ".optout"));
  writeFileSync(join(seed, ".optout", "allowed_signers"), key.allowedSigners);
  writeFileSync(join(seed, ".optoutrc.json"), `${JSON.stringify(policy, null, 2)}\n`);
  writeFileSync(join(seed, "README"), "a project\n");
  git(seed, "add", "-A");
  git(seed, "commit", "-q", "-m", "policy");
  git(seed, "remote", "add", "origin", remote);
  git(seed, "push", "-q", "origin", "main");
  const work = join(dir, "work");
  git(dir, "clone", "-q", remote, work);
  const home = join(dir, "home");
  mkdirSync(home);
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: home,
    OPTOUT_SIGNING_KEY: key.path,
    CI: "true",
    NO_COLOR: "1",
    GIT_CONFIG_NOSYSTEM: "1",
  };
  return { dir, remote, work, env };
}
