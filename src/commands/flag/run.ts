import { madeIt, matchingPrincipal, notAllowed } from "../../core/authorize.js";
import { requireDurationMs } from "../../core/duration.js";
import { runOverride, runRestore } from "../../core/flow.js";
import { requirePlain } from "../../core/inputs.js";
import { entryRules, type FlagPolicy } from "../../core/policy.js";
import { flagValue } from "../../core/record.js";
import { ExitCode, QuietExit, UsageError } from "../../errors.js";
import type { Factory } from "../../factory.js";
import { table } from "../../ui/text.js";
import type { OptionsOf } from "../define.js";
import { askReason, choose, presentFlow } from "../shared.js";
import {
  type flagGetCommand,
  type flagListCommand,
  flagListFormats,
  type flagSetCommand,
  type flagUnsetCommand,
} from "./command.js";
import { dotenvLine } from "./dotenv.js";

export type FlagSetOptions = { name?: string; value?: string } & OptionsOf<typeof flagSetCommand>;
export type FlagUnsetOptions = { name?: string } & OptionsOf<typeof flagUnsetCommand>;
export type FlagGetOptions = { name: string } & OptionsOf<typeof flagGetCommand>;
export type FlagListOptions = OptionsOf<typeof flagListCommand>;

async function declared(f: Factory, name: string | undefined): Promise<FlagPolicy> {
  const policy = await f.policy();
  const names = Object.keys(policy.flags);
  const chosen = requirePlain(name ?? (await choose(f, "Which flag?", names, "<name>")), "flag");
  const flag = policy.flags[chosen];
  if (!flag) {
    throw new UsageError(`flag "${chosen}" is not declared in the policy`, {
      hint: names.length
        ? `declared flags: ${names.join(", ")}`
        : `declare it under "flags" in ${policy.file}`,
    });
  }
  return flag;
}

async function envFor(f: Factory, flag: FlagPolicy, env: string | undefined): Promise<string | null> {
  if (!flag.environments) {
    if (env) throw new UsageError(`flag ${flag.name} is repo-wide; --env is not allowed`);
    return null;
  }
  const chosen = requirePlain(
    env ?? (await choose(f, "Which environment?", flag.environments, "--env")),
    "--env",
  );
  if (!flag.environments.includes(chosen)) {
    throw new UsageError(`--env "${chosen}" is not an environment of flag ${flag.name}`, {
      hint: `environments: ${flag.environments.join(", ")}`,
    });
  }
  return chosen;
}

function checkValue(flag: FlagPolicy, value: string): void {
  requirePlain(value, `the value of ${flag.name}`);
  if (flag.values && !flag.values.includes(value)) {
    throw new UsageError(`"${value}" is not a value of flag ${flag.name}`, {
      hint: `values: ${flag.values.join(", ")}`,
    });
  }
  if (flag.pattern && !flag.pattern.test(value)) {
    throw new UsageError(
      `"${value}" does not match the pattern of flag ${flag.name} (${flag.pattern.source})`,
    );
  }
}

export async function runFlagSet(f: Factory, o: FlagSetOptions): Promise<void> {
  const flag = await declared(f, o.name);
  const env = await envFor(f, flag, o.env);
  let value = o.value ?? undefined;
  if (value === undefined) {
    value = flag.values ? await choose(f, "Which value?", flag.values, "<value>") : undefined;
    if (value === undefined)
      throw new UsageError("missing the flag's value", { hint: `optout flag set ${flag.name} <value>` });
  }
  checkValue(flag, value);
  const ttlMs = o.ttl === undefined ? undefined : requireDurationMs(o.ttl, "--ttl");
  const reason = o.reason ?? (await askReason(f, flag.reasonMinLength));
  const result = await runOverride(await f.flowDeps(), {
    op: "flag",
    rules: flag,
    label: `set flag ${flag.name}`,
    target: { flag: flag.name, env },
    mechanism: "variable",
    params: { value },
    reason,
    ticket: o.ticket,
    ttlMs,
    env,
  });
  await presentFlow(f, result, `set ${flag.name}=${value}${env ? ` in ${env}` : ""}`);
}

/**
 * `flag unset`: ends optout's override of the flag now, restoring what was there before optout
 * (a value, or nothing). Recorded like a revert; a flag optout does not override is an error.
 */
export async function runFlagUnset(f: Factory, o: FlagUnsetOptions): Promise<void> {
  const flag = await declared(f, o.name);
  const env = await envFor(f, flag, o.env);
  const [policy, deps] = await Promise.all([f.policy(), f.flowDeps()]);
  const view = await deps.ledger.current();
  // An override past its TTL is still on the forge until `optout expire`: unset ends it too.
  const now = view.flag(flag.name, env, { due: true });
  if (!now) {
    throw new UsageError(`flag ${flag.name}${env ? ` in ${env}` : ""} is not overridden by optout`, {
      hint: "`optout flag list` shows what optout has set; there is nothing to unset",
    });
  }
  const reason = o.reason ?? (await askReason(f, flag.reasonMinLength));
  const result = await runRestore(
    deps,
    {
      kind: "revert",
      id: now.override.id,
      reason: reason?.trim() || null,
      ticket: o.ticket ?? null,
      label: `unset flag ${flag.name}`,
    },
    async (actor, target) => {
      if (madeIt(actor, target)) return;
      const rules = entryRules(policy, "flag", target.target);
      if (rules && (await matchingPrincipal(deps.provider, actor, rules.allow))) return;
      throw notAllowed(actor, `unset flag ${flag.name}`, rules?.allow ?? []);
    },
  );
  const back = flagValue(now.override.baseline);
  await presentFlow(
    f,
    { ...result, revert: null },
    `unset ${flag.name}${env ? ` in ${env}` : ""}: optout's ${now.value} ended, ${back === null ? "no value now" : `back to ${back}`}`,
  );
}

/** The value optout has in force for each flag and environment, from the records that count. */
async function values(f: Factory, pairs: { flag: string; env: string | null }[]): Promise<(string | null)[]> {
  const { ev } = await f.evaluation();
  const view = ev.view(f.now());
  return pairs.map((p) => view.flag(p.flag, p.env)?.value ?? null);
}

export async function runFlagGet(f: Factory, o: FlagGetOptions): Promise<void> {
  const flag = await declared(f, o.name);
  const env = await envFor(f, flag, o.env);
  const [value] = await values(f, [{ flag: flag.name, env }]);
  if (f.io.json) f.io.printJson({ flag: flag.name, env, value: value ?? null });
  else if (value !== null && value !== undefined) f.io.out(value);
  // Like `git config --get`: nothing set → exit 1 with nothing on stdout.
  if (value === null || value === undefined) throw new QuietExit(ExitCode.failed);
}

export async function runFlagList(f: Factory, o: FlagListOptions): Promise<void> {
  const policy = await f.policy();
  const pairs: { flag: string; env: string | null }[] = [];
  for (const flag of Object.values(policy.flags)) {
    if (!flag.environments) pairs.push({ flag: flag.name, env: null });
    else
      for (const env of flag.environments) if (!o.env || env === o.env) pairs.push({ flag: flag.name, env });
  }
  const vals = await values(f, pairs);
  const rows = pairs.map((p, i) => ({ ...p, value: vals[i] ?? null }));
  const format = f.io.json ? "json" : (o.format ?? "table");
  if (format === "json") {
    f.io.printJson({ flags: rows });
  } else if (format === "dotenv") {
    // For pipelines: only flags in force, one NAME='value' line each. Without --env, a flag set per
    // environment would give one name several values: those need --env. Every line is built before
    // any is printed, so a value that cannot be written leaves no half file.
    const lines = rows
      .filter((r) => r.value !== null && (o.env || r.env === null))
      .map((r) => dotenvLine(r.flag, r.value!));
    for (const line of lines) f.io.out(line);
    if (!o.env && rows.some((r) => r.env !== null))
      f.io.err("optout: note: flags scoped to environments are listed with --env <environment>");
  } else if (format === "table") {
    f.io.out(
      table([["FLAG", "ENV", "VALUE"], ...rows.map((r) => [r.flag, r.env ?? "(repo)", r.value ?? "unset"])]),
    );
  } else {
    throw new UsageError(`--format "${format}" is not one of ${flagListFormats.join(", ")}`);
  }
}
