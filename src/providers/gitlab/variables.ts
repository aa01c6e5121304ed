/**
 * Project CI/CD variables as override state. A variable is identified by key AND environment
 * scope: every read, update and delete names the scope (`filter[environment_scope]`), because a
 * key may exist once per scope and GitLab answers 409 when it cannot tell which one is meant.
 * https://docs.gitlab.com/api/project_level_variables/#the-filter-parameter
 *
 * The recorded state carries every attribute (protected, masked, raw, type, description), so a
 * revert puts back exactly what was there, not just the value.
 */
import { z } from "zod";
import { FailedError, ForgeError, UsageError } from "../../errors.js";
import type { GitLabApi, VariableAttributes } from "./api.js";
import type { GitLabVariable } from "./map.js";

export const variableStateSchema = z.object({
  key: z.string(),
  scope: z.string(),
  /** null: the variable did not exist in this scope. */
  value: z.string().nullable(),
  protected: z.boolean().optional(),
  masked: z.boolean().optional(),
  raw: z.boolean().optional(),
  variable_type: z.enum(["env_var", "file"]).optional(),
  description: z.string().nullable().optional(),
});
export type VariableState = z.infer<typeof variableStateSchema>;

/** A recorded state read back from the ledger; a malformed one is refused, not guessed at. */
export function asVariableState(x: unknown, what: string): VariableState {
  const r = variableStateSchema.safeParse(x);
  if (!r.success) throw new FailedError(`the record's ${what} is not a GitLab variable state`);
  return r.data;
}

function snapshot(v: GitLabVariable, key: string, scope: string): VariableState {
  if (v.hidden || v.value === null || v.value === undefined) {
    throw new UsageError(`CI/CD variable ${key} (scope ${scope}) is hidden: GitLab never shows its value`, {
      hint: "optout could not restore it exactly; use a variable that is not hidden for overrides",
    });
  }
  return {
    key,
    scope,
    value: v.value,
    protected: v.protected ?? false,
    masked: v.masked ?? false,
    raw: v.raw ?? false,
    variable_type: v.variable_type ?? "env_var",
    description: v.description ?? null,
  };
}

function attributesOf(s: VariableState): VariableAttributes {
  return {
    protected: s.protected,
    masked: s.masked,
    raw: s.raw,
    variable_type: s.variable_type,
    description: s.description,
  };
}

export async function readVariable(api: GitLabApi, key: string, scope: string): Promise<VariableState> {
  const v = await api.variable(key, scope);
  return v ? snapshot(v, key, scope) : { key, scope, value: null };
}

/** "OPTOUT_SKIP_LINT=true (scope *, protected)" or "OPTOUT_SKIP_LINT unset (scope *)". */
export function describeVariable(s: VariableState): string {
  if (s.value === null) return `${s.key} unset (scope ${s.scope})`;
  const flags: string[] = (["protected", "masked", "raw"] as const).filter((f) => s[f]);
  if (s.variable_type === "file") flags.push("file");
  const shown = s.masked ? "<masked>" : JSON.stringify(s.value);
  return `${s.key}=${shown} (scope ${s.scope}${flags.length ? `, ${flags.join(", ")}` : ""})`;
}

function filter(s: { key: string; scope: string }): string {
  return `/variables/${encodeURIComponent(s.key)}?filter[environment_scope]=${encodeURIComponent(s.scope)}`;
}

/** The exact requests that take `current` to `want` (for plans and --dry-run). */
export function variableCalls(
  api: GitLabApi,
  current: VariableState,
  want: VariableState,
  exact: boolean,
): string[] {
  if (want.value === null) return current.value === null ? [] : [api.call("DELETE", filter(current))];
  const attrs = exact ? attributesOf(want) : {};
  if (current.value === null) {
    return [
      api.call("POST", "/variables", {
        key: want.key,
        value: want.value,
        environment_scope: want.scope,
        ...attrs,
      }),
    ];
  }
  return [api.call("PUT", filter(current), { value: want.value, ...attrs })];
}

const ownerMark = "managed by optout";

/** The description a variable optout creates carries: who made it, and for which record. */
export function ownedDescription(recordId: string): string {
  return `${ownerMark}: record ${recordId} (optout revert ${recordId} removes it)`;
}

/** Whether optout created the variable (its description says so). */
export function ownedByOptout(s: VariableState): boolean {
  return s.description?.startsWith(ownerMark) === true;
}

/**
 * The plan's note when optout is about to change a variable someone else created: said, never
 * done silently. Undefined when the variable is absent or optout's own.
 */
export function foreignNote(s: VariableState): string | undefined {
  if (s.value === null || ownedByOptout(s)) return undefined;
  const said = s.description ? ` (its description: ${JSON.stringify(s.description)})` : "";
  return `note: ${s.key} (scope ${s.scope}) was not created by optout${said}: optout changes its value only, and putting it back restores it exactly`;
}

/**
 * Sets the value, keeping the attributes an existing variable has; a new one is created with
 * GitLab's defaults (not protected, so pipelines on every branch see it) and a description
 * naming optout and the record, so whoever finds it on GitLab knows whose it is.
 */
export async function setVariable(
  api: GitLabApi,
  current: VariableState,
  value: string,
  recordId: string,
): Promise<VariableState> {
  const { key, scope } = current;
  if (current.value !== null) return snapshot(await api.updateVariable(key, scope, value, {}), key, scope);
  try {
    return snapshot(
      await api.createVariable(key, scope, value, { description: ownedDescription(recordId) }),
      key,
      scope,
    );
  } catch (e) {
    // "has already been taken": our own earlier attempt may have landed before its answer was lost.
    if (!(e instanceof ForgeError && e.status === 400 && /already been taken/i.test(e.message))) throw e;
    const now = await readVariable(api, key, scope);
    if (now.value === value) return now;
    throw new FailedError(
      `${key} (scope ${scope}) was created by someone else since the plan; nothing was changed`,
      {
        hint: "run the command again to plan against its current value",
      },
    );
  }
}

export async function removeVariable(api: GitLabApi, current: VariableState): Promise<VariableState> {
  if (current.value !== null) await api.deleteVariable(current.key, current.scope);
  return { key: current.key, scope: current.scope, value: null };
}

/** Puts `want` back exactly: value and every attribute, or no variable at all. */
export async function restoreVariable(
  api: GitLabApi,
  current: VariableState,
  want: VariableState,
): Promise<VariableState> {
  if (want.value === null) return removeVariable(api, current);
  const { key, scope } = want;
  const v =
    current.value === null
      ? await api.createVariable(key, scope, want.value, attributesOf(want))
      : await api.updateVariable(key, scope, want.value, attributesOf(want));
  return snapshot(v, key, scope);
}
