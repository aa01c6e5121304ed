/**
 * GitHub's answers, validated at the boundary (as GitLab's are in ../gitlab/map.ts): only the
 * fields optout reads, checked with zod, so a proxy's page or a changed response fails clearly
 * instead of writing `undefined` into a signed record. Shapes follow GitHub's OpenAPI
 * description (the test fake is held to the same description).
 */
import { z } from "zod";
import { FailedError } from "../../errors.js";

export const userSchema = z.object({ login: z.string(), id: z.number() });

export const permissionSchema = z.object({
  permission: z.string(),
  role_name: z.string().optional(),
});

export const membershipSchema = z.object({ state: z.string() });

export const repositorySchema = z.object({ default_branch: z.string() });

const statusSchema = z.object({
  state: z.string(),
  context: z.string(),
  description: z.string().nullable(),
  target_url: z.string().nullable(),
});

/** GET /repos/{o}/{r}/commits/{ref}/status: the newest status per context. */
export const combinedStatusSchema = z.object({ sha: z.string(), statuses: z.array(statusSchema) });

export const variableSchema = z.object({ value: z.string() });

export const dispatchSchema = z
  .object({ workflow_run_id: z.number().optional(), html_url: z.string().optional() })
  .nullable()
  .optional();

export const runSchema = z.object({
  id: z.number(),
  name: z.string().nullable().optional(),
  display_title: z.string().optional(),
  html_url: z.string(),
  status: z.string().nullable(),
  conclusion: z.string().nullable(),
  created_at: z.string(),
  run_attempt: z.number().optional(),
  /** When the latest attempt started (a re-run restarts it). */
  run_started_at: z.string().optional(),
});
export type WorkflowRun = z.infer<typeof runSchema>;

export const runListSchema = z.object({ workflow_runs: z.array(runSchema) });

/** GET …/actions/runs/{id}/pending_deployments: environments waiting for a reviewer. */
export const pendingDeploymentsSchema = z.array(
  z.object({
    environment: z.object({ name: z.string().optional() }),
    wait_timer: z.number().optional(),
    wait_timer_started_at: z.string().nullable().optional(),
    current_user_can_approve: z.boolean().optional(),
    reviewers: z.array(
      z.object({
        type: z.string().optional(),
        reviewer: z
          .object({ login: z.string().optional(), slug: z.string().optional(), name: z.string().optional() })
          .loose()
          .optional(),
      }),
    ),
  }),
);

export const deploymentsSchema = z.array(
  z.object({ id: z.number(), payload: z.unknown(), environment: z.string().optional() }),
);

export const deploymentStatusesSchema = z.array(
  z.object({
    state: z.string(),
    log_url: z.string().nullable().optional(),
    target_url: z.string().nullable().optional(),
  }),
);

/** GET /repos/{o}/{r}/rules/branches/{branch}: the rules that apply, with their parameters. */
export const branchRulesSchema = z.array(
  z.object({ type: z.string(), parameters: z.record(z.string(), z.unknown()).optional() }).loose(),
);

export const classicProtectionSchema = z.object({
  allow_force_pushes: z.object({ enabled: z.boolean().optional() }).optional(),
  allow_deletions: z.object({ enabled: z.boolean().optional() }).optional(),
  required_status_checks: z
    .object({
      contexts: z.array(z.string()).optional(),
      checks: z.array(z.object({ context: z.string(), app_id: z.number().nullable().optional() })).optional(),
    })
    .nullable()
    .optional(),
});

/** Parses one answer; a mismatch is a clear failure naming the request, never a silent undefined. */
export function parse<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new FailedError(
    `GitHub's answer to ${what} is not what optout expects (${issue?.path.join(".") || "body"}: ${issue?.message})`,
    { hint: "is the API URL a GitHub REST API (policy github.apiUrl / GITHUB_API_URL)?" },
  );
}
