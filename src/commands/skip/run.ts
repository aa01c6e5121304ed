import { requireDurationMs } from "../../core/duration.js";
import { runOverride } from "../../core/flow.js";
import { requirePlain } from "../../core/inputs.js";
import { UsageError } from "../../errors.js";
import type { Factory } from "../../factory.js";
import type { OptionsOf } from "../define.js";
import { refForSkip, requireRemoteRef, shaForSkip } from "../refs.js";
import { askReason, presentFlow } from "../shared.js";
import type { skipCommand } from "./command.js";

export type SkipOptions = { stage: string } & OptionsOf<typeof skipCommand>;

export async function runSkip(f: Factory, o: SkipOptions): Promise<void> {
  requirePlain(o.stage, "stage");
  const policy = await f.policy();
  const stage = policy.stages[o.stage];
  if (!stage) {
    const known = Object.keys(policy.stages);
    throw new UsageError(`unknown stage "${o.stage}"`, {
      hint: known.length
        ? `stages in the policy: ${known.join(", ")}`
        : `add it under "stages" in ${policy.file}`,
    });
  }
  const ttlMs = o.ttl === undefined ? undefined : requireDurationMs(o.ttl, "--ttl");
  const root = (await f.repoInfo()).root;
  const sha = await shaForSkip(root, o.sha);
  // A commit given alone is waived on whichever ref it is on: the local branch says nothing
  // about where the forge runs its pipeline (GitLab then picks the commit's pipeline itself).
  const ref = sha && !o.ref ? null : await refForSkip(root, o.ref);
  // A status skip needs the ref's commit, which the forge resolves (and refuses) itself.
  if (o.ref && ref && !o.allowMissingRef && stage.mechanism !== "status") {
    await requireRemoteRef(root, policy.audit.remote, ref);
  }
  const reason = o.reason ?? (await askReason(f, stage.reasonMinLength));
  const deps = await f.flowDeps();
  const result = await runOverride(deps, {
    op: "skip",
    rules: stage,
    label: `skip ${o.stage}`,
    target: { stage: o.stage, ref, sha },
    mechanism: stage.mechanism,
    reason,
    ticket: o.ticket,
    ttlMs,
  });
  await presentFlow(f, result, `waived ${o.stage} on ${sha ? sha.slice(0, 12) : ref}`);
}
