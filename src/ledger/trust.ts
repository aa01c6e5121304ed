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
    // Reached only when the remote answered: it has no default branch to read allowed_signers from.
    throw new ConfigError(`remote "${remote}" names no default branch (is it empty?)`, {
      hint: `push the default branch with the policy and .optout/allowed_signers to ${remote} first`,
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
