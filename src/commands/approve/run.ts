import { runApprove, runReject } from "../../core/approval.js";
import { matchId } from "../../core/ids.js";
import { requireRecordText } from "../../core/inputs.js";
import { entryRules } from "../../core/policy.js";
import { UsageError } from "../../errors.js";
import type { Factory } from "../../factory.js";
import type { OptionsOf } from "../define.js";
import { describeEntry } from "../rules.js";
import { presentFlow } from "../shared.js";
import type { approveCommand, rejectCommand } from "./command.js";

export type ApproveOptions = { id: string } & OptionsOf<typeof approveCommand>;
export type RejectOptions = { id: string } & OptionsOf<typeof rejectCommand>;

async function pendingRequest(f: Factory, given: string) {
  const [policy, deps] = await Promise.all([f.policy(), f.flowDeps()]);
  const view = await deps.ledger.current();
  const id = matchId(view.ev.requests.keys(), given, "request", "`optout status` lists pending requests");
  const request = view.ev.requests.get(id)!.record;
  const rules = entryRules(policy, request.op, request.target);
  if (!rules) throw new UsageError(`the policy no longer has an entry for ${describeEntry(request)}`);
  return { deps, id, request, rules };
}

/** An approval's or rejection's note goes into the signed record: the same rules as any reason. */
function note(reason: string | undefined): string | null {
  const text = reason?.trim();
  return text ? requireRecordText(text, "--reason") : null;
}

export async function runApproveCommand(f: Factory, o: ApproveOptions): Promise<void> {
  const reason = note(o.reason);
  const { deps, id, request, rules } = await pendingRequest(f, o.id);
  const result = await runApprove(deps, { id, rules, label: describeEntry(request), reason });
  await presentFlow(f, result, `approved and applied ${describeEntry(request)} (request ${id})`);
}

export async function runRejectCommand(f: Factory, o: RejectOptions): Promise<void> {
  const reason = note(o.reason);
  const { deps, id, request, rules } = await pendingRequest(f, o.id);
  const record = await runReject(deps, { id, rules, label: describeEntry(request), reason });
  if (f.io.json) f.io.printJson({ id, status: record ? "rejected" : "dry-run", record: record ?? null });
  else
    f.io.out(record ? `rejected ${describeEntry(request)} (request ${id})` : `dry run: would reject ${id}`);
}
