/**
 * Principal strings → `Principal`, group names expanded. Whether a kind can be checked depends on
 * the provider: a rule the provider cannot check would silently deny everyone (or, worse, be
 * skipped), so it is a configuration error instead.
 */
import type { Principal, ProviderName } from "../core/policy.js";
import { principalToString } from "../core/policy.js";
import { type JsonPath, type Problems, show } from "./problems.js";
import { nearest } from "./suggest.js";

/** Repository roles, lowest first, as each forge names them. */
export const providerRoles: Record<ProviderName, readonly string[]> = {
  github: ["read", "triage", "write", "maintain", "admin"],
  gitlab: ["guest", "reporter", "developer", "maintainer", "owner"],
  git: [],
};

/** Which principal kinds each provider can check (the table in docs/policy.md, Principals). */
const checkable: Record<ProviderName, ReadonlySet<Principal["kind"]>> = {
  github: new Set(["user", "team", "role"]),
  gitlab: new Set(["user", "group", "role"]),
  git: new Set(["user"]),
};

export interface PrincipalContext {
  problems: Problems;
  /** The effective provider; undefined when the file's own value is invalid (already reported). */
  provider: ProviderName | undefined;
  /** `provider github` or `provider git (from --provider)`, for messages. */
  providerLabel: string;
}

type Parsed = { principal: Principal } | { problem: string; hint?: string };

function parse(text: string): Parsed {
  const colon = text.indexOf(":");
  const kind = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  const noSpace = !/\s/.test(rest);
  switch (kind) {
    case "user":
      if (rest !== "" && noSpace) return { principal: { kind: "user", login: rest } };
      return { problem: "user: needs a login", hint: 'e.g. "user:dana"' };
    case "team": {
      const m = /^([^/\s]+)\/([^/\s]+)$/.exec(rest);
      if (m) return { principal: { kind: "team", org: m[1]!, slug: m[2]! } };
      return { problem: "team: needs org/slug", hint: 'e.g. "team:acme/oncall"' };
    }
    case "group":
      if (/^[^/\s]+(?:\/[^/\s]+)*$/.test(rest)) return { principal: { kind: "group", path: rest } };
      return { problem: "group: needs a group path", hint: 'e.g. "group:acme/platform/oncall"' };
    case "role":
      if (rest !== "") return { principal: { kind: "role", role: rest } };
      return {
        problem: "role: needs a role name",
        hint: 'e.g. "role:admin" (GitHub) or "role:maintainer" (GitLab)',
      };
    default:
      return {
        problem: `unknown principal kind ${show(kind)}`,
        hint: "use user:<login>, team:<org>/<slug>, group:<path>, role:<name> or a name from groups",
      };
  }
}

/** Provider-specific limits of a well-formed principal; undefined when fine. */
function unsupported(p: Principal, ctx: PrincipalContext): [string, string?] | undefined {
  const provider = ctx.provider;
  if (provider === undefined) return undefined;
  if (!checkable[provider].has(p.kind)) {
    const forge = p.kind === "team" ? "GitHub" : p.kind === "group" ? "GitLab" : "a forge";
    const hint = {
      git: "plain git knows only signers: use user:<principal in allowed_signers>",
      github: "GitHub's equivalent is team:<org>/<slug>",
      gitlab: "GitLab's equivalent is group:<full/path>",
    }[provider];
    return [`${p.kind}: principals need ${forge}; ${ctx.providerLabel} cannot check them`, hint];
  }
  if (p.kind === "role" && !providerRoles[provider].includes(p.role)) {
    return [
      `unknown role ${show(p.role)} for ${ctx.providerLabel}`,
      `roles: ${providerRoles[provider].join(", ")}`,
    ];
  }
  return undefined;
}

/**
 * A principal string as `provider` can check it, or undefined when it is malformed or of a kind
 * the provider cannot check (guard's light reader: it declines, and the full loader explains).
 */
export function principalFor(text: string, provider: ProviderName): Principal | undefined {
  const parsed = parse(text);
  if ("problem" in parsed) return undefined;
  const ctx = { problems: undefined as never, provider, providerLabel: provider };
  return unsupported(parsed.principal, ctx) ? undefined : parsed.principal;
}

/** A principal written in `groups` (groups may not nest) or in an allow list. */
export function parsePrincipal(text: string, path: JsonPath, ctx: PrincipalContext): Principal | undefined {
  const parsed = parse(text);
  if ("problem" in parsed) {
    ctx.problems.add(path, parsed.problem, parsed.hint);
    return undefined;
  }
  const limit = unsupported(parsed.principal, ctx);
  if (limit) {
    ctx.problems.add(path, limit[0], limit[1]);
    return undefined;
  }
  return parsed.principal;
}

/** The principals of one group definition (`groups.<name>`): principals only, no group names. */
export function parseGroup(
  list: readonly string[],
  path: JsonPath,
  groupNames: ReadonlySet<string>,
  ctx: PrincipalContext,
): Principal[] {
  const out: Principal[] = [];
  list.forEach((text, i) => {
    if (!text.includes(":")) {
      const problem = groupNames.has(text)
        ? `${show(text)} is a group; a group may only list principals, not other groups`
        : `${show(text)} is not a principal`;
      ctx.problems.add(
        [...path, i],
        problem,
        `write user:${text} for a person, or copy the group's principals here`,
      );
      return;
    }
    const p = parsePrincipal(text, [...path, i], ctx);
    if (p) out.push(p);
  });
  return dedupe(out);
}

/**
 * An `allow`, `approvals.from` or `review.allow` list: principals and group names, expanded.
 * `groups` holds the groups that parsed; `groupNames` every name written in the file, so a
 * reference to a group that is itself broken is not reported a second time.
 */
export function resolvePrincipals(
  list: readonly string[],
  path: JsonPath,
  groups: Readonly<Record<string, Principal[]>>,
  groupNames: ReadonlySet<string>,
  ctx: PrincipalContext,
): Principal[] {
  const out: Principal[] = [];
  list.forEach((text, i) => {
    if (text.includes(":")) {
      const p = parsePrincipal(text, [...path, i], ctx);
      if (p) out.push(p);
    } else if (Object.hasOwn(groups, text)) {
      out.push(...groups[text]!);
    } else if (!groupNames.has(text)) {
      const near = nearest(text, groupNames);
      ctx.problems.add(
        [...path, i],
        `undefined group ${show(text)}${near ? `; did you mean ${near}?` : ""}`,
        near ? undefined : `define it under "groups", or write user:${text} for a person`,
      );
    }
  });
  return dedupe(out);
}

function dedupe(list: Principal[]): Principal[] {
  const seen = new Set<string>();
  return list.filter((p) => {
    const key = principalToString(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
