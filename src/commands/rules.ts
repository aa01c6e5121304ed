import type { EntryRules, Policy } from "../core/policy.js";
import type { IndexEntry } from "../core/record.js";

/** The policy entry that governs an active override, if the policy still has it. */
export function rulesFor(
  policy: Policy,
  e: Pick<IndexEntry, "op" | "type" | "target">,
): EntryRules | undefined {
  switch (e.op ?? e.type) {
    case "skip":
      return policy.stages[e.target.stage ?? ""];
    case "flag":
      return policy.flags[e.target.flag ?? ""];
    case "rollout":
      return policy.rollout;
    case "failover":
      return policy.failover;
    default:
      return undefined;
  }
}

export function describeEntry(e: Pick<IndexEntry, "op" | "type" | "target">): string {
  const t = e.target;
  // A review ("review  of skip 01J…"), or a refused one ("deny  review of 01J…"): about an override.
  if (t.override)
    return e.type === "review" ? `of ${e.op ?? "override"} ${t.override}` : `review of ${t.override}`;
  switch (e.op ?? e.type) {
    case "skip":
      return `skip ${t.stage}@${t.sha ? t.sha.slice(0, 12) : t.ref}`;
    case "flag":
      return `flag ${t.flag}${t.env ? `@${t.env}` : ""}`;
    case "rollout":
      return `rollout ${t.env} ${t.artifact ?? ""}`.trim();
    case "failover":
      return `failover ${t.env ? `${t.env} ` : ""}→ ${t.target}`;
    default:
      return `${e.op ?? e.type}`;
  }
}
