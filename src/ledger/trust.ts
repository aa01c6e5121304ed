/**
 * Where trust comes from: allowed_signers is read from the remote's protected default branch,
 * never from the audit branch (whoever can push there must not be able to add a key) and never
 * from the local worktree (a local edit must not grant rights).
 */
import type { Policy, ProviderName } from "../core/policy.js";
import { ConfigError } from "../errors.js";
import { readBlob, resolveOids } from "../git/objects.js";
import {
  defaultBranch,
  fetchBranch,
  fetchObjects,
  hasPromisorPacks,
  isShallow,
  type RepoInfo,
} from "../git/repo.js";
import { type InForce, loadInForce, policyPathOf } from "../policy/in-force.js";
import type { AllowedSigner } from "./allowed-signers.js";

export interface TrustSource {
  branch: string;
  ref: string;
  path: string;
  signers: AllowedSigner[];
}

/**
 * The policy in force and allowed_signers, read from the remote's default branch (fetched; the
 * copy this clone last fetched when the remote cannot be reached, said on stderr by the caller).
 */
export async function loadFromDefaultBranch(
  repo: RepoInfo,
  local: Pick<Policy, "file" | "audit">,
  o: { provider?: ProviderName; repo?: string; warn: (text: string) => void },
): Promise<{ inForce: InForce; trust: TrustSource }> {
  const remote = local.audit.remote;
  const branch = await defaultBranch(repo.root, remote);
  if (!branch) {
    // Reached only when the remote answered: it has no default branch to read the policy from.
    throw new ConfigError(`remote "${remote}" names no default branch (is it empty?)`, {
      hint: `push the default branch with the policy and .optout/allowed_signers to ${remote} first`,
    });
  }
  const ref = `refs/remotes/${remote}/${branch}`;
  // In a shallow CI checkout, stay shallow: only the tip's two files matter.
  const fetched = await fetchBranch(
    repo.root,
    remote,
    branch,
    ref,
    isShallow(repo.commonDir) ? ["--depth=1"] : [],
  );
  if (!fetched.ok) {
    o.warn(
      `cannot fetch ${remote}/${branch} (${fetched.message}); using the policy as this clone last saw it`,
    );
  }
  if (hasPromisorPacks(repo.commonDir)) {
    // A filtered checkout (guard ran here) may lack the two files: one request for both, not one each.
    const names = [`${ref}:${policyPathOf(local, repo.root)}`, `${ref}:${local.audit.allowedSigners}`];
    const oids = [
      ...(await resolveOids(repo.root, names, repo.objectFormat === "sha256" ? 32 : 20)).values(),
    ];
    if (oids.length) await fetchObjects(repo.root, remote, oids);
  }
  const inForce = await loadInForce((path) => readBlob(repo.root, `${ref}:${path}`), local, {
    root: repo.root,
    remote,
    branch,
    ref,
    ...(o.provider ? { provider: o.provider } : {}),
    ...(o.repo ? { repo: o.repo } : {}),
  });
  return {
    inForce,
    trust: { branch, ref, path: inForce.signersPath, signers: inForce.signers },
  };
}
