import { madeIt, matchingPrincipal, notAllowed } from "../../core/authorize.js";
import { runRestore } from "../../core/flow.js";
import { matchId } from "../../core/ids.js";
import { requireRecordText } from "../../core/inputs.js";
import { entryRules } from "../../core/policy.js";
import type { Factory } from "../../factory.js";
import type { OptionsOf } from "../define.js";
import { describeEntry } from "../rules.js";
import { presentFlow } from "../shared.js";
import type { revertCommand } from "./command.js";

export type RevertOptions = { id: string } & OptionsOf<typeof revertCommand>;

export async function runRevert(f: Factory, o: RevertOptions): Promise<void> {
  const reason = o.reason?.trim() ? requireRecordText(o.reason.trim(), "--reason") : null;
  const [policy, deps] = await Promise.all([f.policy(), f.flowDeps()]);
  const view = await deps.ledger.current();
  // Every override optout knows of, so a superseded or ended one gets its reason, not "no such id".
  const id = matchId(view.ev.overrides.keys(), o.id, "override", "see `optout status` for what is in force");
  const result = await runRestore(deps, { kind: "revert", id, reason }, async (actor, target) => {
    // Whoever made it may undo it; so may anyone the policy lets make it.
    if (madeIt(actor, target)) return;
    const rules = entryRules(policy, target.op, target.target);
    if (rules && (await matchingPrincipal(deps.provider, actor, rules.allow))) return;
    throw notAllowed(actor, `revert ${describeEntry(target)}`, rules?.allow ?? []);
  });
  const o2 = view.ev.overrides.get(id)!;
  await presentFlow(f, result, `reverted ${describeEntry(o2)} (${id})`);
}
