import { requireDurationMs } from "../../core/duration.js";
import { runOverride } from "../../core/flow.js";
import { requireNotOption, requirePlain } from "../../core/inputs.js";
import { targetKey } from "../../core/state.js";
import { ExitCode, QuietExit, UsageError } from "../../errors.js";
import type { Factory } from "../../factory.js";
import type { OptionsOf } from "../define.js";
import { askReason, choose, presentFlow } from "../shared.js";
import type { failoverCommand } from "./command.js";

export type FailoverOptions = OptionsOf<typeof failoverCommand>;

export async function runFailover(f: Factory, o: FailoverOptions): Promise<void> {
  const policy = await f.policy();
  const failover = policy.failover;
  if (!failover)
    throw new UsageError(`the policy has no "failover" section`, { hint: `add one to ${policy.file}` });
  const env = o.env === undefined ? null : requirePlain(o.env, "--env");
  if (env !== null && failover.environments && !failover.environments.includes(env)) {
    throw new UsageError(`--env "${env}" is not a failover environment`, {
      hint: `environments: ${failover.environments.join(", ")}`,
    });
  }
  if (env === null && failover.environments && !o.show) {
    o.env = await choose(f, "Which environment?", failover.environments, "--env");
    return runFailover(f, o);
  }
  if (o.show) return show(f, env);
  // The target is passed to the failover command as an argument of its own.
  const to = requireNotOption(o.to ?? (await choose(f, "Fail over to?", failover.targets, "--to")), "--to");
  if (!failover.targets.includes(to)) {
    throw new UsageError(`--to "${to}" is not a failover target`, {
      hint: `targets: ${failover.targets.join(", ")}`,
    });
  }
  const timeoutMs = o.timeout === undefined ? null : requireDurationMs(o.timeout, "--timeout");
  const ttlMs = o.ttl === undefined ? undefined : requireDurationMs(o.ttl, "--ttl");
  const reason = o.reason ?? (await askReason(f, failover.reasonMinLength));
  const result = await runOverride(await f.flowDeps(), {
    op: "failover",
    rules: failover,
    label: `fail over${env ? ` ${env}` : ""} to ${to}`,
    target: { target: to, env },
    mechanism: (await f.provider()).mechanismFor("failover"),
    params: { wait: o.wait ? "true" : null, timeoutMs: timeoutMs === null ? null : String(timeoutMs) },
    reason,
    ticket: o.ticket,
    ttlMs,
    env,
  });
  await presentFlow(f, result, `failed over${env ? ` ${env}` : ""} to ${to}`);
}

async function show(f: Factory, env: string | null): Promise<void> {
  const { ev } = await f.evaluation();
  const active = ev.view(f.now()).target(targetKey("failover", { env })).active;
  const target = (active?.after as { target?: string } | undefined)?.target ?? null;
  if (f.io.json) {
    f.io.printJson({ env, target, id: active?.id ?? null, ...(active ? { outcome: active.outcome } : {}) });
  } else if (target) f.io.out(target);
  if (!target) throw new QuietExit(ExitCode.failed);
}
