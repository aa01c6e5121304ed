/**
 * The policy in force: the copy on the remote's protected default branch, with the allowed_signers
 * it names, read from the same commit. Every authorizing decision (writes, guard, flag reads,
 * approvals) uses it. The working copy's file is a draft: it says where the policy lives and which
 * remote to ask, and `optout policy check` and `--dry-run` read it, saying so; no local file can
 * grant a right or switch this off.
 */
import path from "node:path";
import type { Policy, ProviderName } from "../core/policy.js";
import { ConfigError } from "../errors.js";
import { type AllowedSigner, parseAllowedSigners } from "../ledger/allowed-signers.js";

export interface InForce {
  policy: Policy;
  /** allowed_signers from the same branch. */
  signers: AllowedSigner[];
  /** The default branch, and where on it the two files are. */
  branch: string;
  ref: string;
  policyPath: string;
  signersPath: string;
}

/** Reads a file of the default branch's tip (undefined: not there). */
export type ReadFile = (path: string) => Promise<Buffer | undefined>;

/** Where the policy lives in the repository, from the draft the working copy has. */
export function policyPathOf(local: Pick<Policy, "file">, root: string): string {
  const rel = path.relative(root, local.file).split(path.sep).join("/");
  if (rel.startsWith("..") || path.isAbsolute(rel)) {
    throw new ConfigError(`the policy ${local.file} is outside the repository`, {
      hint: "the policy in force is the copy on the default branch: keep it in the repository",
    });
  }
  if (/\.(c|m)?js$/.test(rel)) {
    throw new ConfigError(`${rel}: a JavaScript policy cannot be read from the default branch`, {
      hint: "optout reads the policy in force from git, without running code: use .optoutrc.json or .optoutrc.yaml",
    });
  }
  return rel;
}

export async function loadInForce(
  read: ReadFile,
  local: Pick<Policy, "file" | "audit">,
  o: {
    root: string;
    remote: string;
    branch: string;
    ref: string;
    provider?: ProviderName;
    repo?: string;
  },
): Promise<InForce> {
  const where = `${o.remote}/${o.branch}`;
  const policyPath = policyPathOf(local, o.root);
  const text = await read(policyPath);
  if (!text) {
    throw new ConfigError(`${policyPath} is not on ${where}`, {
      hint: `the policy in force is the default branch's copy: commit ${policyPath} there and push it`,
    });
  }
  const { loadPolicyText } = await import("./load.js");
  const policy = await loadPolicyText(text.toString("utf8"), policyPath, {
    cwd: o.root,
    ...(o.provider ? { provider: o.provider } : {}),
    ...(o.repo ? { repo: o.repo } : {}),
  });
  const signersPath = policy.audit.allowedSigners;
  const signersText = await read(signersPath);
  if (!signersText) {
    throw new ConfigError(`${signersPath} is not on ${where}`, {
      hint: `allowed signers are read from the default branch: commit ${signersPath} there and push it (optout init writes one)`,
    });
  }
  return {
    policy,
    signers: parseAllowedSigners(signersText.toString("utf8"), `${where}:${signersPath}`),
    branch: o.branch,
    ref: o.ref,
    policyPath,
    signersPath,
  };
}
