/**
 * Stages, flags, rollout and failover: each entry's own checks (what its mechanism or provider
 * needs) and its normalised form.
 */
import type { FailoverPolicy, FlagPolicy, RolloutPolicy, StagePolicy } from "../core/policy.js";
import { mechanismNeedsForge } from "./names.js";
import type { JsonPath } from "./problems.js";
import { show } from "./problems.js";
import { checkDuplicates, entryRules, type RulesContext } from "./rules.js";
import type { FailoverFile, FlagFile, RolloutFile, StageFile } from "./schema.js";
import { nearest } from "./suggest.js";

export function buildStage(name: string, stage: StageFile, ctx: RulesContext): StagePolicy {
  const path = ["stages", name];
  const { mechanism } = stage;
  if (mechanismNeedsForge(mechanism) && ctx.provider === "git") {
    const what = mechanism === "status" ? "post commit statuses" : "set CI variables";
    ctx.problems.add(
      [...path, "mechanism"],
      `${show(mechanism)} needs a forge; ${ctx.providerLabel} cannot ${what}`,
      'use "mechanism": "guard"',
    );
  }
  if (mechanism === "status" && !stage.context) {
    ctx.problems.add(
      [...path, "context"],
      'required with "mechanism": "status"',
      'the commit status context your CI reports, e.g. "ci/lint"',
    );
  }
  if (mechanism === "variable" && !stage.variable) {
    ctx.problems.add(
      [...path, "variable"],
      'required with "mechanism": "variable"',
      'the CI variable the job checks, e.g. "OPTOUT_SKIP_LINT"',
    );
  }
  // A key the mechanism ignores is as silent as a typo: say so.
  if (mechanism !== "status" && stage.context) {
    ctx.problems.add([...path, "context"], 'only used with "mechanism": "status"');
  }
  if (mechanism !== "variable" && stage.variable) {
    ctx.problems.add([...path, "variable"], 'only used with "mechanism": "variable"');
  }
  const out: StagePolicy = { name, mechanism, ...entryRules(stage, path, "stage", undefined, ctx) };
  if (stage.context) out.context = stage.context;
  if (stage.variable) out.variable = stage.variable;
  return out;
}

export function buildFlag(name: string, flag: FlagFile, ctx: RulesContext): FlagPolicy {
  const path = ["flags", name];
  if (flag.values && flag.pattern !== undefined) {
    ctx.problems.add(
      path,
      "has both values and pattern; keep one",
      "values lists every allowed value; pattern is a regex for free-form ones",
    );
  }
  checkDuplicates(flag.values, [...path, "values"], ctx);
  checkDuplicates(flag.environments, [...path, "environments"], ctx);
  const out: FlagPolicy = { name, ...entryRules(flag, path, "flag", flag.environments, ctx) };
  if (flag.description !== undefined) out.description = flag.description;
  if (flag.values) out.values = flag.values;
  if (flag.pattern !== undefined) out.pattern = new RegExp(flag.pattern);
  if (flag.environments) out.environments = flag.environments;
  return out;
}

const rolloutPlaceholders = ["artifact", "env", "skip", "record"];
const failoverPlaceholders = ["target", "env", "record"];

function checkPlaceholders(
  argv: readonly string[] | undefined,
  path: JsonPath,
  known: string[],
  ctx: RulesContext,
) {
  argv?.forEach((arg, i) => {
    for (const [, word] of arg.matchAll(/\{([A-Za-z_]+)\}/g)) {
      if (known.includes(word!)) continue;
      const near = nearest(word!, known);
      const list = known.map((k) => `{${k}}`).join(", ");
      ctx.problems.add(
        [...path, i],
        `unknown placeholder {${word}}${near ? `; did you mean {${near}}?` : ""}`,
        `placeholders here: ${list}`,
      );
    }
  });
}

/** Whether the entry can run on the effective provider; gitlab runs the project's pipeline as is. */
function checkRunnable(
  entry: RolloutFile | FailoverFile,
  key: "rollout" | "failover",
  ctx: RulesContext,
): void {
  if (ctx.provider === "git" && !entry.command) {
    ctx.problems.add(
      [key],
      `needs "command" with ${ctx.providerLabel}`,
      'plain git runs it as an argv without a shell, e.g. ["./deploy.sh", "{env}"]',
    );
  }
  if (ctx.provider === "github") {
    if (key === "rollout" && !entry.workflow) {
      ctx.problems.add(
        [key],
        `needs "workflow" with ${ctx.providerLabel}`,
        'the workflow file to dispatch, e.g. "deploy.yml"',
      );
    }
    if (key === "failover" && !entry.workflow && !(entry as FailoverFile).variable) {
      ctx.problems.add(
        [key],
        `needs "variable" or "workflow" with ${ctx.providerLabel}`,
        "a repository variable to switch, or a workflow to dispatch",
      );
    }
  }
}

export function buildRollout(
  r: RolloutFile,
  stageNames: ReadonlySet<string>,
  ctx: RulesContext,
): RolloutPolicy {
  checkRunnable(r, "rollout", ctx);
  checkPlaceholders(r.command, ["rollout", "command"], rolloutPlaceholders, ctx);
  checkDuplicates(r.environments, ["rollout", "environments"], ctx);
  checkDuplicates(r.skippable, ["rollout", "skippable"], ctx);
  r.skippable?.forEach((stage, i) => {
    if (stageNames.has(stage)) return;
    const near = nearest(stage, stageNames);
    ctx.problems.add(
      ["rollout", "skippable", i],
      `unknown stage ${show(stage)}${near ? `; did you mean ${near}?` : ""}`,
      near ? undefined : 'skippable names stages declared under "stages"',
    );
  });
  // The artifact pattern is the only gate on what an artifact-only deploy ships: unanchored, it
  // accepts anything that merely contains a match.
  const source = r.artifact.pattern;
  if (!source.startsWith("^") || !source.endsWith("$") || source.endsWith("\\$")) {
    ctx.problems.add(
      ["rollout", "artifact", "pattern"],
      "must be anchored with ^ and $",
      "unanchored, it accepts any artifact that merely contains a match",
    );
  }
  const out: RolloutPolicy = {
    ...entryRules(r, ["rollout"], "rollout", r.environments, ctx),
    environments: r.environments,
    artifactPattern: new RegExp(source),
    skippable: r.skippable ?? [],
  };
  if (r.workflow) out.workflow = r.workflow;
  if (r.ref) out.ref = r.ref;
  if (r.command) out.command = r.command;
  return out;
}

export function buildFailover(f: FailoverFile, ctx: RulesContext): FailoverPolicy {
  checkRunnable(f, "failover", ctx);
  checkPlaceholders(f.command, ["failover", "command"], failoverPlaceholders, ctx);
  checkDuplicates(f.targets, ["failover", "targets"], ctx);
  checkDuplicates(f.environments, ["failover", "environments"], ctx);
  const out: FailoverPolicy = {
    ...entryRules(f, ["failover"], "failover", f.environments, ctx),
    targets: f.targets,
  };
  if (f.variable) out.variable = f.variable;
  if (f.workflow) out.workflow = f.workflow;
  if (f.ref) out.ref = f.ref;
  if (f.command) out.command = f.command;
  if (f.environments) out.environments = f.environments;
  return out;
}
