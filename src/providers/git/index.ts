/**
 * The plain-git provider: no forge. Identity is the signing key's principal in allowed_signers;
 * skips and flags live in the ledger and are enforced by `optout guard` / `optout flag get`;
 * rollouts and failovers run the policy's `command`.
 */

import { formatDuration } from "../../core/duration.js";
import { type Policy, type Principal, userNames } from "../../core/policy.js";
import type {
  DoctorCheck,
  DoctorContext,
  OverrideSpec,
  Plan,
  ProviderPort,
  RestoreSpec,
  TargetView,
} from "../../core/ports.js";
import { type Actor, flagValue, type LedgerRecord } from "../../core/record.js";
import { FailedError, UnknownOutcomeError, UsageError } from "../../errors.js";
import { fillPlaceholders, killGraceMs, runCommand } from "./command.js";

export interface GitProviderDeps {
  policy: Policy;
  cwd: string;
  env: Record<string, string | undefined>;
  /** The allowed_signers principal of the signing key (throws NotAllowedError when there is none). */
  signerPrincipal: () => Promise<string>;
  /** Where a command's output goes (stderr). */
  output: (chunk: string) => void;
  /** What is being waited on, for the spinner. */
  progress?: (text: string) => void;
}

/** `--timeout` (the flow passes it in params as milliseconds). */
function timeoutOf(spec: OverrideSpec): number | undefined {
  const ms = Number(spec.params.timeoutMs);
  return spec.params.timeoutMs && Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/** "; stopped after 30s": how the plan announces --timeout, as given. */
function limitText(spec: OverrideSpec): string {
  const ms = timeoutOf(spec);
  return ms ? ` (stopped if it runs longer than ${formatDuration(ms)})` : "";
}

function field(state: unknown, name: string): string | null {
  if (state && typeof state === "object" && name in state) {
    const v = (state as Record<string, unknown>)[name];
    return typeof v === "string" ? v : null;
  }
  return null;
}

export class GitProvider implements ProviderPort {
  readonly name = "git" as const;

  constructor(private readonly deps: GitProviderDeps) {}

  async identity(): Promise<Actor> {
    const principal = await this.deps.signerPrincipal();
    return { provider: "git", login: principal, id: principal };
  }

  async identitySource(): Promise<string> {
    return "the signing key's principal in allowed_signers on the default branch";
  }

  /** No forge to ask: the branches must be protected on the git server itself. */
  async doctorChecks(c: DoctorContext): Promise<DoctorCheck[]> {
    return [
      {
        name: "branch protection",
        status: "warn",
        detail: `protect ${c.auditBranch} against force-push and deletion, and require review on the default branch`,
        hint: "plain git: on the server, set receive.denyNonFastForwards=true and receive.denyDeletes=true",
      },
    ];
  }

  mechanismFor(op: "rollout" | "failover"): string {
    if (op === "rollout") return "command";
    return this.deps.policy.failover?.command ? "command" : "guard";
  }

  async hasPrincipal(actor: Actor, p: Principal): Promise<boolean> {
    return p.kind === "user" && userNames(p, actor.login, "git");
  }

  async plan(spec: OverrideSpec, view: TargetView): Promise<Plan> {
    const t = spec.target;
    const until = spec.expiresAt ? `until ${spec.expiresAt}` : "until reverted";
    switch (spec.op) {
      case "skip": {
        if (spec.mechanism !== "guard") {
          throw new UsageError(
            `mechanism "${spec.mechanism}" needs a forge; the git provider skips with "guard"`,
            {
              hint: 'set "mechanism": "guard" for this stage and run `optout guard <stage>` in its job',
            },
          );
        }
        const where = t.sha ? `commit ${t.sha.slice(0, 12)}` : `ref ${t.ref}`;
        return {
          steps: [
            `will waive stage ${t.stage} on ${where} ${until}: \`optout guard ${t.stage}\` will answer skip`,
          ],
          calls: ["ledger: append skip record on the audit branch"],
          before: null,
          after: { waived: true },
          external: false,
        };
      }
      case "flag": {
        const before = { value: view.active ? flagValue(view.active.after) : null };
        const value = spec.params.value ?? null;
        const after = { value };
        const where = t.env ? ` in ${t.env}` : "";
        return {
          steps: [
            `will set flag ${t.flag}=${value}${where} ${until} (now ${before.value ?? "unset"}): \`optout flag get ${t.flag}\` will print it`,
          ],
          calls: ["ledger: append flag record on the audit branch"],
          before,
          after,
          external: false,
        };
      }
      case "rollout": {
        const command = this.command("rollout");
        const before = { artifact: field(view.active?.after, "artifact") };
        const argv = fillPlaceholders(command, {
          artifact: t.artifact ?? "",
          env: t.env ?? "",
          skip: spec.params.skip ?? "",
          record: "<record id>",
        });
        return {
          steps: [
            `will roll out ${t.artifact} to ${t.env} (now ${before.artifact ?? "unknown"}) by running: ${show(argv)}${limitText(spec)}`,
          ],
          calls: ["ledger: append rollout intent", `run: ${show(argv)}`, "ledger: append result"],
          before,
          after: { artifact: t.artifact },
          external: true,
        };
      }
      case "failover": {
        const before = { target: field(view.active?.after, "target") };
        const command = this.deps.policy.failover?.command;
        const argv = command
          ? fillPlaceholders(command, { target: t.target ?? "", env: t.env ?? "", record: "<record id>" })
          : undefined;
        return {
          steps: [
            `will fail over${t.env ? ` ${t.env}` : ""} to ${t.target} (now ${before.target ?? "unknown"})${argv ? ` by running: ${show(argv)}${limitText(spec)}` : ""}; \`optout failover --show\` will print it`,
          ],
          calls: argv
            ? ["ledger: append failover intent", `run: ${show(argv)}`, "ledger: append result"]
            : ["ledger: append failover record"],
          before,
          after: { target: t.target },
          external: !!argv,
        };
      }
    }
  }

  private command(kind: "rollout" | "failover"): string[] {
    const c = this.deps.policy[kind]?.command;
    if (!c) throw new UsageError(`the policy's ${kind} has no "command" to run on the git provider`);
    return c;
  }

  /**
   * Runs a command to its end, or until --timeout or Ctrl-C stops it. A command stopped midway may
   * have done part of its work: that outcome is unknown, never "failed" (see UnknownOutcomeError).
   */
  private async run(argv: string[], label: string, signal?: AbortSignal, timeoutMs?: number): Promise<void> {
    this.deps.progress?.(`running the ${label}`);
    const r = await runCommand(argv, {
      cwd: this.deps.cwd,
      env: this.deps.env,
      label,
      output: this.deps.output,
      signal,
      timeoutMs,
    });
    const check = "check the environment, then run the override again or revert it";
    if (r.timedOut) {
      throw new UnknownOutcomeError(
        `${label} did not finish within ${formatDuration(timeoutMs ?? 0)}: stopped it (SIGTERM, SIGKILL after ${formatDuration(killGraceMs)}); whether it took effect is unknown`,
        { hint: check },
      );
    }
    if (r.canceled) {
      throw new UnknownOutcomeError(
        `${label} was stopped by the interrupt; whether it took effect is unknown`,
        {
          hint: check,
        },
      );
    }
    if (r.signal) {
      throw new UnknownOutcomeError(`${label} was ended by ${r.signal}; whether it took effect is unknown`, {
        hint: check,
      });
    }
    if (r.exitCode !== 0) throw new FailedError(`${label}: ${argv[0]} exited with ${r.exitCode}`);
  }

  async apply(
    spec: OverrideSpec,
    plan: Plan,
    record: LedgerRecord,
    signal?: AbortSignal,
  ): Promise<{ after: unknown; detail?: string }> {
    const t = spec.target;
    if (spec.op === "rollout") {
      const argv = fillPlaceholders(this.command("rollout"), {
        artifact: t.artifact ?? "",
        env: t.env ?? "",
        skip: spec.params.skip ?? "",
        record: record.id,
      });
      await this.run(argv, "rollout command", signal, timeoutOf(spec));
      return { after: plan.after, detail: `rolled out ${t.artifact} to ${t.env}` };
    }
    if (spec.op === "failover") {
      const argv = fillPlaceholders(this.command("failover"), {
        target: t.target ?? "",
        env: t.env ?? "",
        record: record.id,
      });
      await this.run(argv, "failover command", signal, timeoutOf(spec));
      return { after: plan.after, detail: `failed over to ${t.target}` };
    }
    throw new Error(`${spec.op} is ledger-only on the git provider; nothing to apply`);
  }

  async planRestore(spec: RestoreSpec): Promise<Plan> {
    const t = spec.target;
    if (spec.op === "rollout") {
      const artifact = field(spec.restore, "artifact");
      if (!artifact) {
        throw new UsageError(`nothing to roll back to: no earlier rollout to ${t.env} is recorded`, {
          hint: "roll out the artifact you want with `optout rollout`",
        });
      }
      const argv = fillPlaceholders(this.command("rollout"), {
        artifact,
        env: t.env ?? "",
        skip: "",
        record: "<record id>",
      });
      return {
        steps: [`will roll ${t.env} back to ${artifact} by running: ${show(argv)}`],
        calls: ["ledger: append revert intent", `run: ${show(argv)}`, "ledger: append result"],
        before: spec.current ?? null,
        after: { artifact },
        external: true,
      };
    }
    if (spec.op === "failover") {
      const target = field(spec.restore, "target");
      if (!target) {
        throw new UsageError(`nothing to fail back to: the target before ${spec.overrideId} is not recorded`);
      }
      const command = this.deps.policy.failover?.command;
      const argv = command
        ? fillPlaceholders(command, { target, env: t.env ?? "", record: "<record id>" })
        : undefined;
      return {
        steps: [
          `will fail back${t.env ? ` ${t.env}` : ""} to ${target}${argv ? ` by running: ${show(argv)}` : ""}`,
        ],
        calls: argv
          ? ["ledger: append revert intent", `run: ${show(argv)}`, "ledger: append result"]
          : ["ledger: append record"],
        before: spec.current ?? null,
        after: { target },
        external: !!argv,
      };
    }
    const back =
      spec.op === "flag"
        ? `; flag ${t.flag} goes back to ${flagValue(spec.restore) === null ? "unset" : JSON.stringify(flagValue(spec.restore))}`
        : "";
    return {
      steps: [
        `will end ${spec.op} ${spec.overrideId} (${describeTarget(spec)})${back}; pipelines stop seeing it at once`,
      ],
      calls: ["ledger: append record on the audit branch"],
      before: spec.current ?? null,
      after: spec.restore ?? null,
      external: false,
    };
  }

  async restore(
    spec: RestoreSpec,
    plan: Plan,
    record: LedgerRecord,
    signal?: AbortSignal,
  ): Promise<{ after: unknown }> {
    const t = spec.target;
    if (spec.op === "rollout") {
      const artifact = field(plan.after, "artifact") ?? "";
      await this.run(
        fillPlaceholders(this.command("rollout"), {
          artifact,
          env: t.env ?? "",
          skip: "",
          record: record.id,
        }),
        "rollout command",
        signal,
      );
      return { after: plan.after };
    }
    if (spec.op === "failover") {
      const target = field(plan.after, "target") ?? "";
      await this.run(
        fillPlaceholders(this.command("failover"), { target, env: t.env ?? "", record: record.id }),
        "failover command",
        signal,
      );
      return { after: plan.after };
    }
    throw new Error(`${spec.op} is ledger-only on the git provider; nothing to restore`);
  }
}

function show(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}

export function describeTarget(e: { target: Record<string, string | null> }): string {
  return Object.entries(e.target)
    .filter(([, v]) => v !== null && v !== "")
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
}
