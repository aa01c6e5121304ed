import { matchingPrincipal } from "../../core/authorize.js";
import type { EntryRules } from "../../core/policy.js";
import type { Factory } from "../../factory.js";
import { table } from "../../ui/text.js";

/** `optout auth status`: who you are on the provider, where that came from, what you may do. */
export async function runAuthStatus(f: Factory): Promise<void> {
  const [policy, provider] = await Promise.all([f.policy(), f.provider()]);
  const actor = await provider.identity();
  const signer = await f.signer();
  const entries: [string, EntryRules | undefined][] = [
    ...Object.values(policy.stages).map((s) => [`skip ${s.name}`, s] as [string, EntryRules]),
    ...Object.values(policy.flags).map((fl) => [`flag ${fl.name}`, fl] as [string, EntryRules]),
    ["rollout", policy.rollout],
    ["failover", policy.failover],
  ];
  const may: { what: string; allowed: boolean; approvals: number }[] = [];
  for (const [what, rules] of entries) {
    if (!rules) continue;
    const allowed = !!(await matchingPrincipal(provider, actor, rules.allow));
    may.push({ what, allowed, approvals: rules.approvals?.required ?? 0 });
  }
  const source = `${await provider.identitySource()}; records signed with ${signer.fingerprint}`;
  if (f.io.json) {
    f.io.printJson({
      provider: provider.name,
      login: actor.login,
      id: actor.id,
      source,
      signingKey: signer.fingerprint,
      may,
    });
    return;
  }
  f.io.out(`${provider.name}: logged in as ${actor.login}`);
  f.io.out(`  identity from: ${source}`);
  f.io.out("");
  f.io.out(
    table([
      ["OVERRIDE", "YOU MAY", "APPROVALS"],
      ...may.map((m) => [m.what, m.allowed ? "yes" : "no", m.approvals ? `${m.approvals} needed` : "-"]),
    ]),
  );
}
