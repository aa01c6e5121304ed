/**
 * Where trust comes from: allowed_signers is read from the remote's protected default branch,
 * never from the audit branch (whoever can push there must not be able to add a key) and never
 * from the local worktree (a local edit must not grant rights).
 */
import { ConfigError } from "../errors.js";
import { readBlob } from "../git/objects.js";
import { defaultBranch, fetchBranch, isShallow, type RepoInfo } from "../git/repo.js";
import { type AllowedSigner, parseAllowedSigners } from "./allowed-signers.js";

export interface TrustSource {
  branch: string;
  ref: string;
  path: string;
  signers: AllowedSigner[];
}

export async function loadAllowedSigners(
  repo: RepoInfo,
  remote: string,
  path: string,
  options: { fetch: boolean },
): Promise<TrustSource> {
  const branch = await defaultBranch(repo.root, remote);
  if (!branch) {
    throw new ConfigError(`cannot tell the default branch of remote "${remote}"`, {
      hint: `check that the remote exists (git remote -v) and is reachable, or run: git remote set-head ${remote} --auto`,
    });
  }
  const ref = `refs/remotes/${remote}/${branch}`;
  if (options.fetch) {
    // In a shallow CI checkout, stay shallow: only the tip's allowed_signers file matters.
    await fetchBranch(repo.root, remote, branch, ref, isShallow(repo.commonDir) ? ["--depth=1"] : []);
  }
  const blob = await readBlob(repo.root, `${ref}:${path}`);
  if (!blob) {
    throw new ConfigError(`${path} is not on ${remote}/${branch}`, {
      hint: `allowed signers are read from the default branch: commit ${path} there and push it (optout init writes one)`,
    });
  }
  return {
    branch,
    ref,
    path,
    signers: parseAllowedSigners(blob.toString("utf8"), `${remote}/${branch}:${path}`),
  };
}
