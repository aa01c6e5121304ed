/**
 * `optout doctor`: checks what an override needs before the emergency does — the policy, the
 * remote, allowed_signers on the default branch, the signing key and its principal, the audit
 * branch and its history — and says how to protect the branches.
 */

import type { Policy } from "../../core/policy.js";
import { ExitCode, type OptoutError, QuietExit } from "../../errors.js";
import type { Factory } from "../../factory.js";
import { configuredUrl, isAncestor, remoteUrl, repoFromUrl } from "../../git/repo.js";
import { verifyReport } from "../../ledger/verify.js";
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
      if (!trustOk) return { status: "warn", detail: "cannot check records without allowed_signers" };
      const { tip, ev } = await f.evaluation();
      const anchor = await store.local.readAnchor();
      const report = verifyReport(
        ev,
        tip,
        ev.valid.length,
        f.now(),
        anchor && tip
          ? { commit: anchor, isAncestor: await isAncestor(store.cfg.repo.root, anchor, tip) }
          : undefined,
      );
      return report.ok
        ? { status: "ok", detail: `${report.records} record(s), all verified` }
        : {
            status: "fail",
            detail: `${report.problems[0]!.problem}`,
            hint: "run `optout log --verify` for details",
          };
    });
    checks.push(...(await providerChecks(f, policy.audit.branch, trustOk)));
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
 * What the provider checks itself (credentials, branch protection, what the forge allows the
 * policy's mechanisms); a provider that cannot even be built is one failed check saying why.
 */
async function providerChecks(f: Factory, auditBranch: string, trustOk: boolean): Promise<Check[]> {
  let provider: Awaited<ReturnType<Factory["provider"]>>;
  try {
    provider = await f.provider();
  } catch (e) {
    return [await attempt("token", () => Promise.reject(e))];
  }
  const defaultBranch = trustOk ? (await f.trust()).branch : undefined;
  return provider.doctorChecks({ auditBranch, defaultBranch: defaultBranch || undefined });
}
