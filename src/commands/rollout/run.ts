import { requireDurationMs } from "../../core/duration.js";
import { runOverride } from "../../core/flow.js";
import { requireNotOption, requirePlain, shown } from "../../core/inputs.js";
import type { RolloutPolicy } from "../../core/policy.js";
import { UsageError } from "../../errors.js";
import type { Factory } from "../../factory.js";
import type { OptionsOf } from "../define.js";
import { askReason, choose, presentFlow } from "../shared.js";
import type { rolloutCommand } from "./command.js";

export type RolloutOptions = OptionsOf<typeof rolloutCommand>;

export async function runRollout(f: Factory, o: RolloutOptions): Promise<void> {
  const policy = await f.policy();
  const rollout = policy.rollout;
  if (!rollout)
    throw new UsageError(`the policy has no "rollout" section`, { hint: `add one to ${policy.file}` });
  // Every input is checked against the policy before anything is read or written.
  if (o.previous !== undefined && o.previous !== false) return runRolloutPrevious(f, o);
  if (!o.artifact) {
    throw new UsageError("missing --artifact", {
      hint: "a digest-pinned reference, e.g. ghcr.io/acme/shop@sha256:…",
    });
  }
  // The artifact is passed to the rollout command or workflow as an argument of its own.
  requireNotOption(o.artifact, "--artifact");
  if (!rollout.artifactPattern.test(o.artifact)) {
    throw new UsageError(`--artifact ${shown(o.artifact)} does not match the policy's artifact.pattern`, {
      hint: `only already-built, pinned artifacts can be rolled out: ${rollout.artifactPattern.source}`,
    });
  }
  const env = await rolloutEnv(f, rollout, o.env);
  const skip = (o.skip ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => requirePlain(s, "--skip"));
  const notSkippable = skip.filter((s) => !rollout.skippable.includes(s));
  if (notSkippable.length) {
    throw new UsageError(`--skip ${notSkippable.join(",")}: not skippable on rollout`, {
      hint: rollout.skippable.length
        ? `skippable: ${rollout.skippable.join(", ")}`
        : "the policy lists no skippable stages",
    });
  }
  const timeoutMs = o.timeout === undefined ? null : requireDurationMs(o.timeout, "--timeout");
  const ttlMs = o.ttl === undefined ? undefined : requireDurationMs(o.ttl, "--ttl");
  const reason = o.reason ?? (await askReason(f, rollout.reasonMinLength));
  const result = await runOverride(await f.flowDeps(), {
    op: "rollout",
    rules: rollout,
    label: `roll out to ${env}`,
    target: { env, artifact: o.artifact },
    mechanism: (await f.provider()).mechanismFor("rollout"),
    params: {
      skip: skip.length ? skip.join(",") : null,
      wait: o.wait ? "true" : null,
      timeoutMs: timeoutMs === null ? null : String(timeoutMs),
    },
    reason,
    ticket: o.ticket,
    ttlMs,
    env,
  });
  await presentFlow(f, result, `rolled out ${o.artifact} to ${env}`);
}

/**
 * `rollout --env <env> --previous [deployment]`: the forge runs a past deployment again (GitHub
 * re-runs its workflow run, GitLab retries its deployment job): no rebuild, no new inputs.
 * Recorded, approved and revertible like any rollout; its artifact is the deployment's own.
 */
async function runRolloutPrevious(f: Factory, o: RolloutOptions): Promise<void> {
  const policy = await f.policy();
  const rollout = policy.rollout!;
  if (o.artifact || o.skip) {
    throw new UsageError(
      `--previous runs a past deployment again as it was: it takes no ${o.artifact ? "--artifact" : "--skip"}`,
      {
        hint: "roll out an artifact with --artifact, or re-run a deployment with --previous",
      },
    );
  }
  const env = await rolloutEnv(f, rollout, o.env);
  const named = typeof o.previous === "string" ? requirePlain(o.previous, "--previous") : undefined;
  const provider = await f.provider();
  if (!provider.previousDeployment) {
    throw new UsageError("--previous needs a forge that keeps deployments (GitHub or GitLab)", {
      hint: "roll out the artifact you want with --artifact",
    });
  }
  const prev = await provider.previousDeployment(env, named);
  const timeoutMs = o.timeout === undefined ? null : requireDurationMs(o.timeout, "--timeout");
  const ttlMs = o.ttl === undefined ? undefined : requireDurationMs(o.ttl, "--ttl");
  const reason = o.reason ?? (await askReason(f, rollout.reasonMinLength));
  const result = await runOverride(await f.flowDeps(), {
    op: "rollout",
    rules: rollout,
    label: `roll ${env} back to ${prev.summary}`,
    target: { env, artifact: prev.artifact },
    mechanism: "rerun",
    params: {
      skip: null,
      previous: prev.id,
      wait: o.wait ? "true" : null,
      timeoutMs: timeoutMs === null ? null : String(timeoutMs),
    },
    reason,
    ticket: o.ticket,
    ttlMs,
    env,
  });
  await presentFlow(f, result, `ran ${prev.summary} again on ${env}`);
}

/** --env, or the answer on a terminal: one of the policy's rollout environments. */
async function rolloutEnv(f: Factory, rollout: RolloutPolicy, given: string | undefined): Promise<string> {
  const env = requirePlain(
    given ?? (await choose(f, "Which environment?", rollout.environments, "--env")),
    "--env",
  );
  if (!rollout.environments.includes(env)) {
    throw new UsageError(`--env "${env}" is not a rollout environment`, {
      hint: `environments: ${rollout.environments.join(", ")}`,
    });
  }
  return env;
}
