import { matchingPrincipal, notAllowed } from "../../core/authorize.js";
import { runRestore } from "../../core/flow.js";
import { requireRecordText } from "../../core/inputs.js";
import { UsageError } from "../../errors.js";
import type { Factory } from "../../factory.js";
import { describeEntry, rulesFor } from "../rules.js";
import { flowDeps, presentFlow } from "../shared.js";

export interface RevertOptions {
  id: string;
  reason?: string;
}

export async function runRevert(f: Factory, o: RevertOptions): Promise<void> {
  const reason = o.reason?.trim() ? requireRecordText(o.reason.trim(), "--reason") : null;
  const [policy, deps] = await Promise.all([f.policy(), flowDeps(f)]);
  const state = await deps.ledger.current();
  const matches = state.index.active.filter(
    (e) => e.id === o.id || (o.id.length >= 6 && e.id.startsWith(o.id.toUpperCase())),
  );
  if (matches.length > 1)
    throw new UsageError(`"${o.id}" matches ${matches.length} overrides; give more of the id`);
  const entry = matches[0];
  if (!entry) {
    throw new UsageError(`no active override with id ${o.id}`, {
      hint: "see `optout status` for active overrides; `optout log` shows ended ones",
    });
  }
  const result = await runRestore(deps, { kind: "revert", entry, reason }, async (actor, original) => {
    // Whoever made it may undo it; so may anyone the policy lets make it.
    if (original.actor.login === actor.login && original.actor.provider === actor.provider) return;
    const rules = rulesFor(policy, entry);
    if (rules && (await matchingPrincipal(deps.provider, actor, rules.allow))) return;
    throw notAllowed(actor, `revert ${describeEntry(entry)}`, rules?.allow ?? []);
  });
  await presentFlow(f, result, `reverted ${describeEntry(entry)} (${entry.id})`);
}
