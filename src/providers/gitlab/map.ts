/**
 * GitLab's answers, validated at the boundary: only the fields optout reads, checked with zod,
 * so a changed or proxied response fails clearly instead of writing `undefined` into a record.
 */
import { z } from "zod";
import { FailedError } from "../../errors.js";

export const userSchema = z.object({ id: z.number(), username: z.string() });

/** The GraphQL answer to api.ts's whoQuery (a global id such as gid://gitlab/User/12). */
export const whoSchema = z.object({
  data: z
    .object({
      currentUser: z.object({ id: z.string(), username: z.string() }).nullable(),
      project: z.object({ maxAccessLevel: z.object({ integerValue: z.number() }) }).nullable(),
    })
    .nullable()
    .optional(),
  errors: z.array(z.object({ message: z.string() })).optional(),
});

export const memberSchema = z.object({
  id: z.number(),
  access_level: z.number(),
  /** "awaiting" members (pending seat approval) have no access yet. */
  state: z.string().optional(),
});

export const projectSchema = z.object({
  id: z.number(),
  path_with_namespace: z.string(),
  default_branch: z.string().nullable().optional(),
  /**
   * Who may pass pipeline variables (projects.md; shown to Maintainers and up): `no_one_allowed`
   * (the default for new GitLab.com projects since 17.7), `developer`, `maintainer`, `owner`.
   */
  ci_pipeline_variables_minimum_override_role: z.string().nullable().optional(),
});
export type Project = z.infer<typeof projectSchema>;

/** GET /projects/:id/protected_branches/:name (docs.gitlab.com/api/protected_branches). */
export const protectedBranchSchema = z.object({
  name: z.string(),
  allow_force_push: z.boolean().optional(),
});

export const commitSchema = z.object({ id: z.string() });

export const statusSchema = z.object({
  id: z.number(),
  name: z.string(),
  status: z.string(),
  ref: z.string().nullable().optional(),
  description: z.string().nullable().optional(),
  target_url: z.string().nullable().optional(),
});
export type CommitStatus = z.infer<typeof statusSchema>;

export const variableSchema = z.object({
  key: z.string(),
  // Hidden variables (GitLab 17.4+) come back without a value.
  value: z.string().nullable().optional(),
  environment_scope: z.string().optional(),
  protected: z.boolean().optional(),
  masked: z.boolean().optional(),
  hidden: z.boolean().optional(),
  raw: z.boolean().optional(),
  variable_type: z.enum(["env_var", "file"]).optional(),
  description: z.string().nullable().optional(),
});
export type GitLabVariable = z.infer<typeof variableSchema>;

export const pipelineSchema = z.object({
  id: z.number(),
  status: z.string(),
  ref: z.string().optional(),
  web_url: z.string().optional(),
  /** workflow:name, when the pipeline's configuration gives one (GitLab 15.5+). */
  name: z.string().nullable().optional(),
});
export type Pipeline = z.infer<typeof pipelineSchema>;

export const pipelineVariablesSchema = z.array(z.object({ key: z.string(), value: z.string().nullable() }));

/** A CI job (jobs.md "Get a single job", "Retry a job"). */
export const jobSchema = z.object({
  id: z.number(),
  status: z.string(),
  web_url: z.string().optional(),
  pipeline: z.object({ id: z.number() }).nullable().optional(),
});
export type Job = z.infer<typeof jobSchema>;

export const deploymentsSchema = z.array(
  z.object({
    id: z.number(),
    status: z.string(),
    created_at: z.string().optional(),
    deployable: z
      .object({ id: z.number(), pipeline: z.object({ id: z.number() }).nullable().optional() })
      .nullable()
      .optional(),
  }),
);

/** Parses one answer; a mismatch is a clear failure naming the request, never a silent undefined. */
export function parse<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new FailedError(
    `GitLab's answer to ${what} is not what optout expects (${issue?.path.join(".") || "body"}: ${issue?.message})`,
    { hint: "is the host a GitLab API v4 (policy gitlab.url / CI_SERVER_URL)?" },
  );
}
