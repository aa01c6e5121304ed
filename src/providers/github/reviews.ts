/**
 * A run that waits on an environment's protection rules (its status is `waiting`): who may let
 * it go on, from `GET /repos/{o}/{r}/actions/runs/{run_id}/pending_deployments` (reviewers:
 * users or teams, any one of whom approves; or a wait timer). Asked once each time a run starts
 * waiting, so `rollout --wait` says "waiting for review by @alice or team acme/release" instead
 * of "in progress" while nobody has approved.
 */
import { formatDuration } from "../../core/duration.js";
import { type GhContext, repoParams } from "./context.js";
import { parse, pendingDeploymentsSchema } from "./schemas.js";

export async function reviewWait(gh: GhContext, runId: number): Promise<string> {
  const route = "GET /repos/{owner}/{repo}/actions/runs/{run_id}/pending_deployments";
  let pending: ReturnType<typeof pendingDeploymentsSchema.parse>;
  try {
    const r = await gh.client.request<unknown>(
      route,
      { ...repoParams(gh), run_id: runId },
      { action: "read pending deployments" },
    );
    pending = parse(pendingDeploymentsSchema, r.data, route);
  } catch {
    // Only a progress line depends on it: a token that may not read it still waits.
    return "waiting (environment protection rules)";
  }
  const parts = pending.map((d) => {
    const env = d.environment.name ? ` (environment ${d.environment.name})` : "";
    const who = d.reviewers
      .map(({ type, reviewer }) =>
        type === "Team" ? `team ${reviewer?.slug ?? reviewer?.name ?? "?"}` : `@${reviewer?.login ?? "?"}`,
      )
      .join(" or ");
    if (who) return `waiting for review by ${who}${env}`;
    if (d.wait_timer) return `waiting for the ${formatDuration(d.wait_timer * 60_000)} wait timer${env}`;
    return `waiting${env}`;
  });
  return parts.length > 0 ? parts.join("; ") : "waiting (environment protection rules)";
}
