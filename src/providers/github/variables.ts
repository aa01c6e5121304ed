/**
 * Actions variables, repo or environment level (skip mechanism `variable`, deploy flags,
 * failover; docs/providers.md). GitHub has no upsert: GET → 404 create (POST) / 200 update (PATCH); there is
 * no PUT. Workflows read them as `vars.NAME`.
 */
import { UsageError } from "../../errors.js";
import { callLine, type GhContext, quoted, repoParams } from "./context.js";
import { parse, variableSchema } from "./schemas.js";

export interface VariableScope {
  name: string;
  /** Environment name; null = repository level. */
  env: string | null;
}

function routes(scope: VariableScope) {
  const base = scope.env
    ? "/repos/{owner}/{repo}/environments/{environment_name}/variables"
    : "/repos/{owner}/{repo}/actions/variables";
  return { list: base, item: `${base}/{name}` };
}

function params(gh: GhContext, scope: VariableScope): Record<string, unknown> {
  return { ...repoParams(gh), ...(scope.env ? { environment_name: scope.env } : {}), name: scope.name };
}

function notFound(gh: GhContext, scope: VariableScope): string {
  return scope.env
    ? `GitHub: environment ${scope.env} not found on ${gh.owner}/${gh.name}, or the token cannot see it (404)`
    : `GitHub: repository ${gh.owner}/${gh.name} not found or the token cannot see it (404)`;
}

/** "Actions variable X" / "Actions variable X on environment production". */
export function describeVariable(scope: VariableScope): string {
  return `Actions variable ${scope.name}${scope.env ? ` on environment ${scope.env}` : ""}`;
}

/** GitHub's rules for variable names: letters, digits, underscores; not starting with a digit or GITHUB_. */
export function checkVariableName(name: string, what: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || /^GITHUB_/i.test(name)) {
    throw new UsageError(`${what} "${name}" cannot be a GitHub Actions variable name`, {
      hint: "use letters, digits and underscores, not starting with a digit or GITHUB_",
    });
  }
}

export async function readVariable(gh: GhContext, scope: VariableScope): Promise<string | null> {
  const r = await gh.client.request<unknown>(`GET ${routes(scope).item}`, params(gh, scope), {
    action: "read Actions variables",
    accept: [404],
  });
  // 404 on a variable is "absent" (for an environment, possibly the environment: the write says).
  return r.status === 404 ? null : parse(variableSchema, r.data, `GET ${routes(scope).item}`).value;
}

/** The requests `writeVariable` will make, for a plan. */
export function variableCalls(
  gh: GhContext,
  scope: VariableScope,
  value: string | null,
  known: string | null,
): string[] {
  const r = routes(scope);
  const p = params(gh, scope);
  if (value === null) return known === null ? [] : [callLine(gh, `DELETE ${r.item}`, p)];
  return [known === null ? callLine(gh, `POST ${r.list}`, p) : callLine(gh, `PATCH ${r.item}`, p)];
}

/**
 * Sets (or with null, deletes) a variable. `known` is what the plan read: it picks create or
 * update without another GET, and a race (created or deleted meanwhile, or an earlier attempt
 * that landed) falls over to the other verb.
 */
export async function writeVariable(
  gh: GhContext,
  scope: VariableScope,
  value: string | null,
  known: string | null,
): Promise<void> {
  const r = routes(scope);
  const p = params(gh, scope);
  const opts = { action: "write Actions variables", notFound: notFound(gh, scope), write: true };
  if (value === null) {
    // Already gone is what we wanted.
    await gh.client.request(`DELETE ${r.item}`, p, { ...opts, accept: [404] });
    return;
  }
  const create = () => gh.client.request(`POST ${r.list}`, { ...p, value }, { ...opts, accept: [409] });
  const update = () => gh.client.request(`PATCH ${r.item}`, { ...p, value }, { ...opts, accept: [404] });
  if (known === null) {
    if ((await create()).status === 409) await update();
  } else if ((await update()).status === 404) {
    // A missing environment makes the create fail too, with the environment named.
    const created = await create();
    if (created.status === 409) await update();
  }
}

export function describeChange(scope: VariableScope, value: string | null, known: string | null): string {
  const what = describeVariable(scope);
  if (value === null)
    return known === null ? `${what} is already unset` : `will delete ${what} (now ${quoted(known)})`;
  return `will set ${what} to ${quoted(value)} (now ${quoted(known)})`;
}
