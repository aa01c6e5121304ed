/**
 * `optout doctor`: checks what an override needs before the emergency does — the policy, the
 * remote, allowed_signers on the default branch, the signing key and its principal, the audit
 * branch and its history — and says how to protect the branches.
 */

import type { Policy } from "../../core/policy.js";
import { ExitCode, type OptoutError, QuietExit } from "../../errors.js";
import type { Factory } from "../../factory.js";
import { repoFromUrl } from "../../factory.js";
import { configuredUrl, isAncestor, remoteUrl } from "../../git/repo.js";
import { readHistory } from "../../ledger/history.js";
import { verifyEntries } from "../../ledger/verify.js";
import { paint } from "../../ui/paint.js";

interface Check {
  name: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  hint?: string;
}

async function attempt(name: string, fn: () => Promise<Omit<Check, "name">>): Promise<Check> {
  try {
    return { name, ...(await fn()) };
  } catch (e) {
    const err = e as OptoutError;
    return { name, status: "fail", detail: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  }
}

export async function runDoctor(f: Factory): Promise<void> {
  const checks: Check[] = [];
  const add = async (name: string, fn: () => Promise<Omit<Check, "name">>) => {
    const c = await attempt(name, fn);
    checks.push(c);
    return c.status !== "fail";
  };
  await add("git", async () => {
    const { gitText } = await import("../../git/run.js");
    const version = await gitText(["version"], { cwd: f.cwd });
    const [major = 0, minor = 0] = (/(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
    // fetch --no-write-fetch-head, --no-auto-maintenance and --stdin arrived in git 2.29.
    return major > 2 || (major === 2 && minor >= 29)
      ? { status: "ok", detail: version }
      : { status: "fail", detail: `${version}: optout needs git 2.29 or later` };
  });
  const policyOk = await add("policy", async () => {
    const p = await f.policy();
    return { status: "ok", detail: `${p.file} is valid (provider ${p.provider})` };
  });
  if (policyOk) {
    const policy = await f.policy();
    await add("repository", () => repositoryCheck(f, policy));
    const trustOk = await add("allowed signers", async () => {
      const t = await f.trust();
      return {
        status: "ok",
        detail: `${t.signers.length} key(s) in ${t.path} on ${policy.audit.remote}/${t.branch}`,
      };
    });
    const keyOk = await add("signing key", async () => {
      const s = await f.signer();
      return { status: "ok", detail: `${s.keyType} ${s.fingerprint}` };
    });
    if (trustOk && keyOk) {
      await add("signer principal", async () => ({
        status: "ok",
        detail: `your key signs as ${await f.signerPrincipal()}`,
      }));
    }
    if (policy.pin) {
      await add("policy pin", async () => {
        const pin = await f.pinCheck();
        return pin.pinned
          ? { status: "ok", detail: `identical to ${pin.ref.replace("refs/remotes/", "")}` }
          : { status: "fail", detail: pin.why, hint: "use the default branch's policy" };
      });
    }
    await add("audit branch", async () => {
      const store = await f.ledgerStore();
      const fetched = await store.fetch({ history: true });
      if (!fetched.reachable)
        return { status: "fail", detail: `cannot fetch from ${policy.audit.remote}: ${fetched.error}` };
      if (!fetched.exists) {
        return {
          status: "warn",
          detail: `${policy.audit.branch} does not exist yet; the first override creates it`,
        };
      }
      const tip = (await store.localTip())!;
      const entries = await readHistory(store.cfg.repo.root, tip);
      const anchor = await store.readAnchor();
      const report = await verifyEntries({
        entries,
        signers: trustOk ? (await f.trust()).signers : [],
        namespace: policy.audit.namespace,
        ...(anchor
          ? { anchor: { commit: anchor, isAncestor: await isAncestor(store.cfg.repo.root, anchor, tip) } }
          : {}),
      });
      return report.ok
        ? { status: "ok", detail: `${report.records} record(s), all verified` }
        : {
            status: "fail",
            detail: `${report.problems[0]!.problem}`,
            hint: "run `optout log --verify` for details",
          };
    });
    if (policy.provider === "git") {
      checks.push({
        name: "branch protection",
        status: "warn",
        detail: `protect ${policy.audit.branch} against force-push and deletion, and require review on the default branch`,
        hint: "plain git: on the server, set receive.denyNonFastForwards=true and receive.denyDeletes=true",
      });
    } else {
      await forgeChecks(f, policy.provider, policy.audit.branch, trustOk, add);
    }
  }
  if (f.io.json) f.io.printJson({ ok: !checks.some((c) => c.status === "fail"), checks });
  else {
    const p = await paint(f.io);
    for (const c of checks) {
      const mark = c.status === "ok" ? p.green("✓") : c.status === "warn" ? p.yellow("!") : p.red("✗");
      f.io.out(`${mark} ${c.name}: ${c.detail}`);
      if (c.hint && c.status !== "ok") f.io.out(`    ${c.hint}`);
    }
  }
  if (checks.some((c) => c.status === "fail")) throw new QuietExit(ExitCode.failed);
}

type Add = (name: string, fn: () => Promise<Omit<Check, "name">>) => Promise<boolean>;

/**
 * Records carry the policy's `repo` and readers compare with it. Without one, each clone derives
 * the name from its own remote URL, and a clone made over another URL form (ssh instead of https,
 * a mirror) reads every record as another repository's. An origin naming another repository than
 * the policy usually means a policy copied from elsewhere.
 */
async function repositoryCheck(f: Factory, policy: Policy): Promise<Omit<Check, "name">> {
  const root = (await f.repoInfo()).root;
  const remote = policy.audit.remote;
  // As configured: a mirror reached through `insteadOf` still names the repository it mirrors.
  const url = (await configuredUrl(root, remote)) ?? (await remoteUrl(root, remote));
  const named = url ? repoFromUrl(url) : undefined;
  // A local path or a bare name says nothing about owner/name.
  const comparable = named?.includes("/") ? named : undefined;
  if (!policy.repo) {
    const derived = await f.repoName().catch(() => "?");
    if (policy.provider !== "git") return { status: "ok", detail: `${root} (${derived})` };
    return {
      status: "warn",
      detail: `the policy names no repo: records are tied to "${derived}", taken from the URL of ${remote} in this clone`,
      hint: `add "repo": "${comparable ?? "<owner>/<name>"}" to ${policy.file}; a clone that uses another URL form (ssh, https, a mirror) would otherwise ignore every record`,
    };
  }
  const repo = policy.repo.toLowerCase();
  const lower = comparable?.toLowerCase();
  if (url && lower && lower !== repo && !lower.endsWith(`/${repo}`)) {
    return {
      status: "warn",
      detail: `${remote} is ${url}, which names ${comparable}, not the policy's repo ${policy.repo}`,
      hint: `records are written and read as ${policy.repo}; if this clone is another repository, its policy must name it`,
    };
  }
  return { status: "ok", detail: `${root} (${policy.repo})` };
}

/**
 * On a forge: where the token came from (the variable's name, never the token), and whether the
 * forge blocks force pushes on the audit branch (fail when not) and the default branch (warn).
 */
async function forgeChecks(
  f: Factory,
  forge: "github" | "gitlab",
  auditBranch: string,
  trustOk: boolean,
  add: Add,
): Promise<void> {
  const label = forge === "github" ? "GitHub" : "GitLab";
  let provider: Awaited<ReturnType<Factory["provider"]>>;
  try {
    provider = await f.provider();
  } catch (e) {
    await add("token", () => Promise.reject(e));
    return;
  }
  const tokenOk = await add("token", async () => {
    const source = await tokenSourceOf(provider);
    if (!source) {
      return {
        status: "fail",
        detail: `no ${label} token found`,
        hint:
          forge === "github"
            ? "set OPTOUT_GITHUB_TOKEN (or GH_TOKEN / GITHUB_TOKEN), or log in with `gh auth login`"
            : "set OPTOUT_GITLAB_TOKEN (or GITLAB_TOKEN) to a token with the api scope",
      };
    }
    return { status: "ok", detail: `${label} token from ${source}` };
  });
  if (!tokenOk || !provider.branchProtection) return;
  const branches: { branch: string; audit: boolean }[] = [{ branch: auditBranch, audit: true }];
  if (trustOk) {
    const main = (await f.trust()).branch;
    if (main && main !== auditBranch) branches.push({ branch: main, audit: false });
  }
  for (const { branch, audit } of branches) {
    await add(
      audit ? `audit branch protection (${branch})` : `default branch protection (${branch})`,
      async () => {
        const p = await provider.branchProtection!(branch);
        const hint = protectHint(forge, branch, audit);
        if (!p) {
          return {
            status: "warn",
            detail: `cannot tell whether ${label} protects ${branch}: ${cannotTell(forge)}`,
            hint,
          };
        }
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
          detail: `${branch} is not protected against force pushes on ${label}: ${p.detail}`,
          hint,
        };
      },
    );
  }
}

async function tokenSourceOf(provider: unknown): Promise<string | null> {
  const p = provider as { tokenSource?: () => string | null | Promise<string | null> };
  return p.tokenSource ? ((await p.tokenSource()) ?? null) : null;
}

function cannotTell(forge: "github" | "gitlab"): string {
  return forge === "github"
    ? "the token needs admin on the repository (fine-grained token: Administration read)"
    : "the token may not read protected branches (it needs the Maintainer role)";
}

function protectHint(forge: "github" | "gitlab", branch: string, audit: boolean): string {
  if (forge === "github") {
    return audit
      ? `GitHub: Settings → Rules → Rulesets → New branch ruleset targeting ${branch}: enable "Restrict deletions" and "Block force pushes"`
      : `GitHub: Settings → Rules → Rulesets → New branch ruleset targeting ${branch}: "Restrict deletions", "Block force pushes" and "Require a pull request before merging"`;
  }
  return audit
    ? `GitLab: Settings → Repository → Protected branches: protect ${branch}, "Allowed to force push" off`
    : `GitLab: Settings → Repository → Protected branches: protect ${branch}, "Allowed to force push" off, "Allowed to push and merge": No one (merge requests only)`;
}
