/**
 * `optout doctor`: checks what an override needs before the emergency does — the policy, the
 * remote, allowed_signers on the default branch, the signing key and its principal, the audit
 * branch and its history — and says how to protect the branches.
 */
import { ExitCode, type OptoutError, QuietExit } from "../../errors.js";
import type { Factory } from "../../factory.js";
import { isAncestor } from "../../git/repo.js";
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
  const policyOk = await add("policy", async () => {
    const p = await f.policy();
    return { status: "ok", detail: `${p.file} is valid (provider ${p.provider})` };
  });
  if (policyOk) {
    const policy = await f.policy();
    await add("repository", async () => ({
      status: "ok",
      detail: `${(await f.repoInfo()).root} (${await f.repoName()})`,
    }));
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
    checks.push({
      name: "branch protection",
      status: "warn",
      detail: `protect ${policy.audit.branch} against force-push and deletion, and require review on the default branch`,
      hint:
        policy.provider === "github"
          ? "GitHub: Settings → Rules → Rulesets: block force pushes and deletions on optout/audit"
          : policy.provider === "gitlab"
            ? "GitLab: Settings → Repository → Protected branches: optout/audit, allowed to force push: off"
            : "plain git: on the server, set receive.denyNonFastForwards=true and receive.denyDeletes=true",
    });
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
