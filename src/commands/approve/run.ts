import { runApprove, runReject } from "../../core/approval.js";
import { requireRecordText } from "../../core/inputs.js";
import type { IndexEntry } from "../../core/record.js";
import { UsageError } from "../../errors.js";
import type { Factory } from "../../factory.js";
import { describeEntry, rulesFor } from "../rules.js";
import { flowDeps, presentFlow } from "../shared.js";

async function pendingRequest(f: Factory, id: string) {
  const [policy, deps] = await Promise.all([f.policy(), flowDeps(f)]);
  const state = await deps.ledger.current();
  const matches = state.index.pending.filter(
    (e) => e.id === id || (id.length >= 6 && e.id.startsWith(id.toUpperCase())),
  );
  if (matches.length > 1)
    throw new UsageError(`"${id}" matches ${matches.length} requests; give more of the id`);
  const entry: IndexEntry | undefined = matches[0];
  if (!entry) {
    throw new UsageError(`no pending request with id ${id}`, {
      hint: "`optout status` lists pending requests",
    });
  }
  const rules = rulesFor(policy, entry);
  if (!rules) throw new UsageError(`the policy no longer has an entry for ${describeEntry(entry)}`);
  return { deps, entry, rules };
}

/** An approval's or rejection's note goes into the signed record: the same rules as any reason. */
function note(reason: string | undefined): string | null {
  const text = reason?.trim();
  return text ? requireRecordText(text, "--reason") : null;
}

export async function runApproveCommand(f: Factory, o: { id: string; reason?: string }): Promise<void> {
  const reason = note(o.reason);
  const { deps, entry, rules } = await pendingRequest(f, o.id);
  const result = await runApprove(deps, {
    entry,
    rules,
    label: describeEntry(entry),
    reason,
  });
  await presentFlow(f, result, `approved and applied ${describeEntry(entry)} (request ${entry.id})`);
}

export async function runRejectCommand(f: Factory, o: { id: string; reason?: string }): Promise<void> {
  const reason = note(o.reason);
  const { deps, entry, rules } = await pendingRequest(f, o.id);
  const record = await runReject(deps, {
    entry,
    rules,
    label: describeEntry(entry),
    reason,
  });
  if (f.io.json)
    f.io.printJson({ id: entry.id, status: record ? "rejected" : "dry-run", record: record ?? null });
  else
    f.io.out(
      record ? `rejected ${describeEntry(entry)} (request ${entry.id})` : `dry run: would reject ${entry.id}`,
    );
}
