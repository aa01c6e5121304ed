import { relative } from "node:path";
import type { Policy } from "../../core/policy.js";
import { ExitCode, NotAllowedError, QuietExit } from "../../errors.js";
import type { Factory } from "../../factory.js";
import { PolicyErrors } from "../../policy/problems.js";
import { inert } from "../../ui/text.js";
import type { OptionsOf } from "../define.js";
import type { policyCheckCommand } from "./command.js";

export type PolicyCheckOptions = OptionsOf<typeof policyCheckCommand>;

/** Environment variables the notify channels name that are not set here. */
function unsetSecrets(policy: Policy, env: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  policy.notify.forEach((n, i) => {
    const name = n.type === "slack" ? n.webhookUrlEnv : n.type === "webhook" ? n.secretEnv : undefined;
    if (name && !env[name])
      out.push(`notify[${i}] (${n.type}): ${name} is not set; announcements to it will fail here`);
  });
  return out;
}

/**
 * One public key under two principals would let one person count as two (an approval of their
 * own request): allowed_signers must give each key one principal. The working copy's file is read.
 */
async function checkSigners(f: Factory, policy: Policy): Promise<void> {
  const { readFile } = await import("node:fs/promises");
  const { join, dirname } = await import("node:path");
  const { parseAllowedSigners, keysUnderTwoPrincipals } = await import("../../ledger/allowed-signers.js");
  const root = (await f.repoInfo().catch(() => undefined))?.root ?? dirname(policy.file);
  const path = join(root, policy.audit.allowedSigners);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return; // not here: doctor and every command read the default branch's copy
  }
  const shared = keysUnderTwoPrincipals(parseAllowedSigners(text, policy.audit.allowedSigners));
  if (shared.length) {
    const { ConfigError } = await import("../../errors.js");
    throw new ConfigError(
      `${policy.audit.allowedSigners}: ${shared.map((s) => `line ${s.lines.join(" and ")}: one key under ${s.principals.join(" and ")}`).join("; ")}`,
      { hint: "a key belongs to one person: list it under one principal (a person may have several keys)" },
    );
  }
}

/**
 * `optout policy check`: every problem of the file, one per line; exit 2 when there is one.
 * `--pinned` also compares it with the default branch's copy: exit 3 when they differ.
 */
export async function runPolicyCheck(f: Factory, o: PolicyCheckOptions = {}): Promise<void> {
  try {
    // The draft in the working copy: checking it is what this command is for.
    const policy = await f.localPolicy();
    await checkSigners(f, policy);
    if (o.pinned) {
      const pin = await f.pinCheck();
      if (!pin.pinned) {
        if (pin.diff) f.io.err(inert(pin.diff));
        throw new NotAllowedError(pin.why, { hint: "the policy in force is the one on the default branch" });
      }
    }
    const file = relative(f.cwd, policy.file) || policy.file;
    const summary = {
      file,
      valid: true,
      provider: policy.provider,
      stages: Object.keys(policy.stages),
      flags: Object.keys(policy.flags),
      rollout: !!policy.rollout,
      failover: !!policy.failover,
      notify: policy.notify.map((n) => n.type),
      warnings: unsetSecrets(policy, f.env),
    };
    // Not errors: the variables are set where optout runs (CI secrets), not necessarily here.
    for (const w of summary.warnings) f.io.err(`optout: warning: ${w}`);
    if (f.io.json) f.io.printJson(summary);
    else {
      f.io.out(
        `${file}: valid (provider ${policy.provider}; ${summary.stages.length} stage(s), ${summary.flags.length} flag(s))${o.pinned ? "; identical to the default branch's copy" : ""}`,
      );
    }
  } catch (e) {
    if (!(e instanceof PolicyErrors)) throw e;
    if (f.io.json) {
      f.io.printJson({ file: e.file, valid: false, problems: e.problems });
    }
    for (const line of e.lines()) f.io.err(`optout: ${line}`);
    for (const p of e.problems) if (p.hint) f.io.err(`hint: ${p.path ? `${p.path}: ` : ""}${p.hint}`);
    throw new QuietExit(ExitCode.usage);
  }
}
