/**
 * The plain-git provider: no forge. Identity is the signing key's principal in allowed_signers;
 * skips and flags live in the ledger and are enforced by `optout guard` / `optout flag get`.
 */

import type { Principal } from "../../core/policy.js";
import type { LedgerState, OverrideSpec, Plan, ProviderPort } from "../../core/ports.js";
import type { Actor, IndexEntry, LedgerRecord } from "../../core/record.js";
import { UsageError } from "../../errors.js";

export interface GitProviderDeps {
  /** The allowed_signers principal of the signing key (throws NotAllowedError when there is none). */
  signerPrincipal: () => Promise<string>;
}

export class GitProvider implements ProviderPort {
  readonly name = "git" as const;

  constructor(private readonly deps: GitProviderDeps) {}

  async identity(): Promise<Actor> {
    const principal = await this.deps.signerPrincipal();
    return { provider: "git", login: principal, id: principal };
  }

  async hasPrincipal(actor: Actor, p: Principal): Promise<boolean> {
    return p.kind === "user" && p.login === actor.login;
  }

  async plan(spec: OverrideSpec, _state: LedgerState): Promise<Plan> {
    if (spec.op === "skip") {
      if (spec.mechanism !== "guard") {
        throw new UsageError(
          `mechanism "${spec.mechanism}" needs a forge; the git provider skips with "guard"`,
          {
            hint: 'set "mechanism": "guard" for this stage and run `optout guard <stage>` in its job',
          },
        );
      }
      const t = spec.target;
      const where = t.sha ? `commit ${t.sha.slice(0, 12)}` : `ref ${t.ref}`;
      const until = spec.expiresAt ? `until ${spec.expiresAt}` : "until reverted";
      return {
        steps: [
          `will waive stage ${t.stage} on ${where} ${until}: \`optout guard ${t.stage}\` will answer skip`,
        ],
        calls: [`ledger: append skip record on the audit branch`],
        before: null,
        after: { waived: true },
        external: false,
      };
    }
    throw new UsageError(`${spec.op} is not available on the git provider yet`);
  }

  async apply(): Promise<{ after: unknown }> {
    throw new Error("ledger-only overrides have nothing to apply");
  }

  async planRestore(entry: IndexEntry, _original: LedgerRecord, _state: LedgerState): Promise<Plan> {
    return {
      steps: [
        `will end ${entry.op ?? entry.type} ${entry.id} (${describeTarget(entry)}); pipelines stop seeing it at once`,
      ],
      calls: ["ledger: append record on the audit branch"],
      before: entry.after ?? null,
      after: entry.before ?? null,
      external: false,
    };
  }

  async restore(): Promise<{ after: unknown }> {
    throw new Error("ledger-only overrides have nothing to restore");
  }
}

export function describeTarget(e: { target: Record<string, string | null> }): string {
  return Object.entries(e.target)
    .filter(([, v]) => v !== null && v !== "")
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
}
