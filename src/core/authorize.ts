import { NotAllowedError, UsageError } from "../errors.js";
import { requireRecordText, shown } from "./inputs.js";
import type { EntryRules, Principal } from "./policy.js";
import { principalToString } from "./policy.js";
import type { ProviderPort } from "./ports.js";
import type { Actor } from "./record.js";
import { visibleLength } from "./text.js";

/**
 * Whether two identities are one person: on the same provider, the same account (forge id) or the
 * same login whatever its case (a login may be renamed, or mapped to a second signer principal:
 * the id settles it). A bare login (a record's requester or approvers) matches on the login.
 */
export function sameActor(
  a: Pick<Actor, "provider" | "login" | "id">,
  b: Pick<Actor, "provider" | "login" | "id"> | string,
): boolean {
  if (typeof b === "string") return a.login.toLowerCase() === b.toLowerCase();
  return a.provider === b.provider && (a.login.toLowerCase() === b.login.toLowerCase() || a.id === b.id);
}

/**
 * Whoever made an override may undo it: the person who asked for it (`login`), or the one whose
 * record put it in force (an approver who applied someone's request).
 */
export function madeIt(actor: Actor, o: { login: string; record: { actor: Actor } }): boolean {
  return sameActor(actor, o.login) || sameActor(actor, o.record.actor);
}

/** The first principal of `allow` that covers the actor, or undefined. */
export async function matchingPrincipal(
  provider: ProviderPort,
  actor: Actor,
  allow: readonly Principal[],
): Promise<Principal | undefined> {
  // Cheap checks first: user principals need no forge request.
  const ordered = [...allow].sort((a, b) => Number(b.kind === "user") - Number(a.kind === "user"));
  for (const p of ordered) {
    if (await provider.hasPrincipal(actor, p)) return p;
  }
  return undefined;
}

export function notAllowed(actor: Actor, what: string, allow: readonly Principal[]): NotAllowedError {
  return new NotAllowedError(`${actor.login} may not ${what}`, {
    hint: `the policy allows: ${allow.map(principalToString).join(", ")}`,
  });
}

export const maxReasonLength = 2000;
export const maxTicketLength = 200;

export interface Inputs {
  reason: string | undefined;
  ticket: string | undefined;
  ttlMs: number | null | undefined;
}

/**
 * Reason, ticket and TTL against the entry's rules: UsageError (exit 2) naming the flag. Both texts
 * go into a signed record kept for ever: one line each, no credential, and the reason's length
 * counts what a reader sees (zero-width characters do not say why).
 */
export function validateInputs(rules: EntryRules, inputs: Inputs, label: string): { ttlMs: number | null } {
  const reason = inputs.reason?.trim() ?? "";
  if (reason.length === 0) {
    throw new UsageError("--reason is required", {
      hint: `say why, in at least ${rules.reasonMinLength} characters (e.g. "linter crashes on node 22, INC-4411")`,
    });
  }
  requireRecordText(reason, "--reason");
  const visible = visibleLength(reason);
  if (visible < rules.reasonMinLength) {
    throw new UsageError(
      `--reason is ${visible} visible characters; ${label} needs at least ${rules.reasonMinLength}`,
      { hint: "say what is broken and why overriding is safe" },
    );
  }
  // Records are read by people and terminals for years: keep free text within reason.
  if ([...reason].length > maxReasonLength) {
    throw new UsageError(`--reason is ${[...reason].length} characters; at most ${maxReasonLength}`, {
      hint: "put the details in the ticket and link it with --ticket",
    });
  }
  const ticket = inputs.ticket?.trim();
  if (ticket) requireRecordText(ticket, "--ticket");
  if (ticket && [...ticket].length > maxTicketLength) {
    throw new UsageError(`--ticket is longer than ${maxTicketLength} characters`);
  }
  if (rules.ticket.required && !ticket) {
    throw new UsageError(`--ticket is required for ${label}`, {
      hint: rules.ticket.pattern ? `it must match ${rules.ticket.pattern.source}` : undefined,
    });
  }
  if (ticket && rules.ticket.pattern && !rules.ticket.pattern.test(ticket)) {
    throw new UsageError(`--ticket ${shown(ticket)} does not match ${rules.ticket.pattern.source}`);
  }
  const ttlMs = inputs.ttlMs === undefined ? rules.ttlMs : inputs.ttlMs;
  if (ttlMs !== null && ttlMs > rules.maxTtlMs) {
    throw new UsageError(
      `--ttl is longer than the ${formatMs(rules.maxTtlMs)} the policy allows for ${label}`,
      {
        hint: `ask for ${formatMs(rules.maxTtlMs)} or less; it can be extended by a new override later`,
      },
    );
  }
  return { ttlMs };
}

function formatMs(ms: number): string {
  const h = ms / 3_600_000;
  return Number.isInteger(h) ? `${h}h` : `${Math.round(ms / 60_000)}m`;
}

/**
 * On a forge the actor comes from the forge; the key that signs the records must belong to the
 * same person: its allowed_signers principal must be the login, or the one policy `signers` maps
 * the login to. Anything else is refused, so nobody signs as someone else.
 */
export function requireSignerIsActor(
  actor: Actor,
  principal: string,
  signers: Readonly<Record<string, string>>,
  forge: string,
): void {
  const expected = signers[actor.login] ?? actor.login;
  if (principal === expected) return;
  throw new NotAllowedError(
    `your signing key belongs to "${principal}" in allowed_signers, but you are ${actor.login} on ${forge}`,
    {
      hint: `map the login in the policy: "signers": { "${actor.login}": "${principal}" } (reviewed on the default branch)`,
    },
  );
}

/** `provider`, whose identity() also runs requireSignerIsActor (once per command). */
export function withSignerCheck(
  provider: ProviderPort,
  signer: () => Promise<{ principal: string; signers: Readonly<Record<string, string>> }>,
): ProviderPort {
  const identity = provider.identity.bind(provider);
  let checked: Promise<Actor> | undefined;
  provider.identity = () => {
    checked ??= (async () => {
      // The forge first: a bad token is the problem to report before any key problem.
      const actor = await identity();
      const s = await signer();
      requireSignerIsActor(actor, s.principal, s.signers, provider.name);
      return actor;
    })();
    return checked;
  };
  return provider;
}
