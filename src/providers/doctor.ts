/**
 * The doctor checks both forges share: where the token comes from, and whether the forge blocks
 * force pushes on the audit branch (fail when not: the ledger could be rewritten) and on the
 * default branch (warn: allowed_signers and the policy live there). Each forge adds its own.
 */
import type { BranchProtection, DoctorCheck, DoctorContext } from "../core/ports.js";
import type { OptoutError } from "../errors.js";

export interface ForgeDoctor {
  label: "GitHub" | "GitLab";
  tokenSource: () => Promise<string | null>;
  /** How to get a token, when there is none. */
  noTokenHint: string;
  branchProtection: (branch: string) => Promise<BranchProtection | undefined>;
  /** Why protection may be unreadable (the token lacks admin / Maintainer). */
  cannotTell: string;
  protectHint: (branch: string, audit: boolean) => string;
}

/** A check that threw becomes a failed check saying why. */
export async function attempt(
  name: string,
  fn: () => Promise<Omit<DoctorCheck, "name">>,
): Promise<DoctorCheck> {
  try {
    return { name, ...(await fn()) };
  } catch (e) {
    const err = e as OptoutError;
    return { name, status: "fail", detail: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  }
}

export async function forgeChecks(d: ForgeDoctor, c: DoctorContext): Promise<DoctorCheck[]> {
  const token = await attempt("token", async () => {
    const source = await d.tokenSource();
    return source
      ? { status: "ok", detail: `${d.label} token from ${source}` }
      : { status: "fail", detail: `no ${d.label} token found`, hint: d.noTokenHint };
  });
  if (token.status === "fail") return [token];
  const checks = [token];
  const branches = [{ branch: c.auditBranch, audit: true }];
  if (c.defaultBranch && c.defaultBranch !== c.auditBranch)
    branches.push({ branch: c.defaultBranch, audit: false });
  for (const { branch, audit } of branches) {
    const name = audit ? `audit branch protection (${branch})` : `default branch protection (${branch})`;
    checks.push(await attempt(name, () => protection(d, branch, audit)));
  }
  return checks;
}

async function protection(
  d: ForgeDoctor,
  branch: string,
  audit: boolean,
): Promise<Omit<DoctorCheck, "name">> {
  const p = await d.branchProtection(branch);
  const hint = d.protectHint(branch, audit);
  if (!p)
    return {
      status: "warn",
      detail: `cannot tell whether ${d.label} protects ${branch}: ${d.cannotTell}`,
      hint,
    };
  if (p.forcePushBlocked) {
    const deletion =
      p.deletionBlocked === false
        ? " (deletion is allowed)"
        : p.deletionBlocked === null
          ? " (deletion: unknown)"
          : "";
    return {
      status: p.deletionBlocked === false ? "warn" : "ok",
      detail: `force pushes blocked${deletion}: ${p.detail}`,
      hint,
    };
  }
  return {
    status: audit ? "fail" : "warn",
    detail: `${branch} is not protected against force pushes on ${d.label}: ${p.detail}`,
    hint,
  };
}
