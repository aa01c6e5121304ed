/**
 * Policy pinning: with `"pin": "default-branch"`, the local policy must be byte-identical to the
 * copy on the remote's protected default branch, so nobody grants themselves rights by editing
 * their checkout. (allowed_signers is always read from the default branch, never locally.)
 */
import { readFile } from "node:fs/promises";
import { relative, sep } from "node:path";
import { readBlob } from "../git/objects.js";
import { git } from "../git/run.js";

export type PinCheck =
  | { pinned: true; ref: string; path: string }
  | { pinned: false; ref: string; path: string; why: string; diff: string };

export async function comparePolicyWithDefaultBranch(
  root: string,
  policyFile: string,
  ref: string,
): Promise<PinCheck> {
  const path = relative(root, policyFile).split(sep).join("/");
  if (path.startsWith("..")) {
    return { pinned: false, ref, path, why: `the policy ${policyFile} is outside the repository`, diff: "" };
  }
  const [remote, local] = await Promise.all([readBlob(root, `${ref}:${path}`), readFile(policyFile)]);
  if (!remote)
    return {
      pinned: false,
      ref,
      path,
      why: `${path} is not on ${ref.replace("refs/remotes/", "")}`,
      diff: "",
    };
  if (remote.equals(local)) return { pinned: true, ref, path };
  const d = await git(["diff", "--no-color", "--no-ext-diff", ref, "--", path], {
    cwd: root,
    allowFailure: true,
  });
  return {
    pinned: false,
    ref,
    path,
    why: `the local ${path} differs from the copy on ${ref.replace("refs/remotes/", "")}`,
    diff: d.stdout.toString("utf8"),
  };
}
