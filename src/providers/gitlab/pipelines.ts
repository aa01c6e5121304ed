/**
 * Pipelines for rollouts and failovers: `POST /projects/:id/pipeline` with `variables`, and
 * `--wait` by polling `GET /projects/:id/pipelines/:id` until a final status.
 * https://docs.gitlab.com/api/pipelines/#create-a-new-pipeline
 *
 * Every pipeline carries its record id (OPTOUT_RECORD), so one whose creation GitLab did not
 * confirm (a 502 after the POST) is looked for before anything is called unknown, and
 * `optout sync` finds it later (settle.ts).
 */
import type { LedgerState } from "../../core/ports.js";
import { FailedError, ForgeError, UnknownOutcomeError } from "../../errors.js";
import type { GitLabDeps } from "./context.js";
import type { Pipeline } from "./map.js";

/** Statuses after which a pipeline never changes again. */
const finalStatuses = new Set(["success", "failed", "canceled", "skipped"]);

export interface RunInfo {
  id: number;
  url: string | null;
  /** The final status when waited for; null when not waited for. */
  conclusion: string | null;
}

export interface PipelineVariable {
  key: string;
  value: string;
}

/**
 * What a pipeline is told, both ways: as CI/CD variables (OPTOUT_ARTIFACT, …) and as inputs
 * (artifact, …) for projects that forbid pipeline variables. Which one is sent: PassingMode.
 */
export interface PipelineArgs {
  variables: PipelineVariable[];
  inputs: Record<string, string>;
}

/**
 * How the project lets optout pass values: `variables`, `inputs` when its
 * ci_pipeline_variables_minimum_override_role is `no_one_allowed`, or `either` when the setting
 * is not known (it is shown to Maintainers only): variables are tried, and GitLab's refusal
 * ("Insufficient permissions to set pipeline variables", nothing created) turns to inputs.
 */
export type PassingMode = "variables" | "inputs" | "either";

/** `name → [variable, value]`: the variable is OPTOUT_<…>, the input its lower-case name. */
export function pipelineArgs(values: Record<string, [string, string | null | undefined]>): PipelineArgs {
  const variables: PipelineVariable[] = [];
  const inputs: Record<string, string> = {};
  for (const [input, [key, value]] of Object.entries(values)) {
    inputs[input] = value ?? "";
    // Empty values are left out: `$OPTOUT_SKIP` unset reads the same in `rules:` as an empty one.
    if (typeof value === "string" && value !== "") variables.push({ key, value });
  }
  return { variables, inputs };
}

export function passingMode(deps: GitLabDeps): PassingMode {
  const role = deps.api.projectIfRead?.ci_pipeline_variables_minimum_override_role;
  if (role === "no_one_allowed") return "inputs";
  // Creating a pipeline takes Developer already; a higher minimum depends on who runs optout.
  return role === "developer" ? "variables" : "either";
}

const variablesForbidden = /insufficient permissions to set pipeline variables/i;

/** The ref a pipeline runs on: the policy's `ref`, else the project's default branch. */
export async function pipelineRef(deps: GitLabDeps, policyRef: string | undefined): Promise<string> {
  if (policyRef) return policyRef;
  const branch = (await deps.api.project()).default_branch;
  if (!branch)
    throw new FailedError(`${deps.ctx.repo} has no default branch to run a pipeline on`, {
      hint: "set rollout.ref / failover.ref in the policy",
    });
  return branch;
}

export function createCall(deps: GitLabDeps, ref: string, args: PipelineArgs, mode: PassingMode): string {
  const body = mode === "inputs" ? { ref, inputs: args.inputs } : { ref, variables: args.variables };
  return (
    deps.api.call("POST", "/pipeline", body) +
    (mode === "either" ? " (inputs instead if the project forbids pipeline variables)" : "")
  );
}

export function parseTimeout(text: string | null | undefined): number {
  const n = Number(text);
  return Number.isFinite(n) && n > 0 ? n : 30 * 60_000;
}

const settleHint = "run `optout sync` to read from GitLab what happened and record it";

function pipelineUrl(deps: GitLabDeps, id: number, url?: string | null): string {
  return url ?? `${deps.api.host}/${deps.ctx.repo}/-/pipelines/${id}`;
}

/**
 * The pipeline that carries `recordId`: created through the API on `ref` since `since`, named
 * with the record (workflow:name) or holding it in OPTOUT_RECORD. Undefined when there is none.
 */
export async function findPipeline(
  deps: GitLabDeps,
  recordId: string,
  ref: string | null,
  since: Date,
): Promise<Pipeline | undefined> {
  for (const p of await deps.api.recentPipelines(ref, since)) {
    if (p.name?.includes(recordId)) return p;
    const vars = await deps.api.pipelineVariables(p.id);
    if (vars?.some((v) => v.key === "OPTOUT_RECORD" && v.value === recordId)) return p;
  }
  return undefined;
}

/**
 * Creates the pipeline and, with `waitMs`, follows it to a final status. A pipeline that ends
 * badly is a failure (GitLab says so); one whose creation or progress GitLab did not confirm is
 * UnknownOutcomeError.
 */
export async function runPipeline(
  deps: GitLabDeps,
  ref: string,
  args: PipelineArgs,
  waitMs: number | null,
  mode: PassingMode = passingMode(deps),
): Promise<RunInfo> {
  const recordId = args.inputs.optout_record;
  const since = new Date(deps.ctx.now().getTime() - 5 * 60_000);
  let created: Pipeline;
  try {
    created = await createWithArgs(deps, ref, args, mode);
  } catch (e) {
    // The POST may have created it (a lost answer): look for it rather than say "failed".
    if (!(e instanceof UnknownOutcomeError) || !recordId) throw e;
    const found = await findPipeline(deps, recordId, ref, since).catch(() => undefined);
    if (!found) throw e;
    created = found;
  }
  const url = created.web_url ?? null;
  if (waitMs === null) return { id: created.id, url, conclusion: null };
  const started = Date.now();
  let status = created.status;
  for (;;) {
    if (finalStatuses.has(status)) break;
    const left = started + waitMs - Date.now();
    if (left <= 0) {
      throw new UnknownOutcomeError(
        `pipeline #${created.id} is still ${status} after ${minutes(waitMs)}: ${pipelineUrl(deps, created.id, url)}`,
        { hint: `it keeps running on GitLab: follow it there, then ${settleHint}` },
      );
    }
    deps.ctx.progress(`pipeline #${created.id} ${status} (${Math.round((Date.now() - started) / 1000)} s)`);
    await deps.sleep(Math.min(deps.pollIntervalMs, left));
    status = await pollStatus(deps, created.id, url);
  }
  if (status !== "success") {
    throw new FailedError(`pipeline #${created.id} ${status}: ${pipelineUrl(deps, created.id, url)}`);
  }
  return { id: created.id, url, conclusion: status };
}

async function createWithArgs(deps: GitLabDeps, ref: string, args: PipelineArgs, mode: PassingMode) {
  if (mode === "inputs") return deps.api.createPipeline(ref, { inputs: args.inputs });
  try {
    return await deps.api.createPipeline(ref, { variables: args.variables });
  } catch (e) {
    // Refused before anything was created: the project takes inputs, not variables.
    if (
      mode !== "either" ||
      !(e instanceof ForgeError && e.status === 400 && variablesForbidden.test(e.message))
    )
      throw e;
    deps.ctx.log(
      "the project forbids pipeline variables (ci_pipeline_variables_minimum_override_role); passing inputs",
    );
    return deps.api.createPipeline(ref, { inputs: args.inputs });
  }
}

/** One poll; losing track of a pipeline says where to find it, since it keeps running. */
async function pollStatus(deps: GitLabDeps, id: number, url: string | null): Promise<string> {
  try {
    return (await deps.api.pipeline(id)).status;
  } catch (e) {
    throw new UnknownOutcomeError(`lost track of pipeline #${id}: ${(e as Error).message}`, {
      hint: `it may still be running: ${pipelineUrl(deps, id, url)}; then ${settleHint}`,
    });
  }
}

function minutes(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}

/**
 * The artifact running in `env` before this rollout: the ledger's active rollout there, else the
 * OPTOUT_ARTIFACT of the pipeline behind GitLab's last successful deployment, else unknown.
 */
export async function previousArtifact(
  deps: GitLabDeps,
  state: LedgerState,
  env: string,
): Promise<{ artifact: string | null; source: string }> {
  const active = state.index.active.find((e) => (e.op ?? e.type) === "rollout" && e.target.env === env);
  const fromLedger = (active?.after as { artifact?: unknown } | undefined)?.artifact;
  if (typeof fromLedger === "string")
    return { artifact: fromLedger, source: `the ledger (override ${active!.id})` };
  const pipelineId = await deps.api.lastDeploymentPipeline(env);
  if (pipelineId === undefined)
    return { artifact: null, source: `no successful deployment to ${env} on GitLab` };
  const vars = await deps.api.pipelineVariables(pipelineId);
  const artifact = vars?.find((v) => v.key === "OPTOUT_ARTIFACT")?.value ?? null;
  return artifact
    ? { artifact, source: `the last successful deployment (pipeline #${pipelineId})` }
    : { artifact: null, source: `the last deployment (pipeline #${pipelineId}) names no OPTOUT_ARTIFACT` };
}
