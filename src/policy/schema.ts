/**
 * Version 1 of the policy file, as written (before normalisation). Every object is strict: a typo
 * must be an error, not a silently dropped rule. Defaults that depend on other keys (an entry's
 * ttl falls back to `defaults.ttl`) are applied by normalize.ts, so absence stays visible here.
 * The JSON Schema shipped for editors is generated from this file (json-schema.ts); refinements
 * (durations, regexes) are checked here but are not part of it.
 */
import { z } from "zod";
import { parseDurationMs } from "../core/duration.js";
import { gitName, NAME_PATTERN, REPO_PATTERN, repoPath, VARIABLE_PATTERN } from "./names.js";
import { show } from "./problems.js";

export { NAME_PATTERN, VARIABLE_PATTERN };

const text = z.string().min(1);

const name = (what: string) =>
  z.string().regex(NAME_PATTERN, {
    error: `invalid ${what} name; use letters, digits, ".", "_" and "-", starting with a letter or digit`,
  });

const variableName = (what: string) =>
  z.string().regex(VARIABLE_PATTERN, {
    error: `invalid ${what} name; use letters, digits and "_", not starting with a digit`,
  });

const duration = z
  .string()
  .refine(
    (s) => {
      const ms = parseDurationMs(s);
      return ms !== null && ms > 0;
    },
    {
      error: (iss) => `${show(iss.input)} is not a duration`,
      params: { hint: "use 30m, 4h, 2d, 1w, or an ISO 8601 duration such as PT4H" },
    },
  )
  .meta({ description: "A duration: 30m, 4h, 2d, 1w or ISO 8601 (PT4H)", examples: ["4h"] });

function regexError(source: string): string | undefined {
  try {
    new RegExp(source);
    return undefined;
  } catch (e) {
    return (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, "");
  }
}

const regex = z
  .string()
  .refine((s) => regexError(s) === undefined, {
    error: (iss) => `invalid regular expression: ${regexError(String(iss.input))}`,
  })
  .meta({ description: "A JavaScript regular expression (no flags)" });

const url = z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" });

/** `user:<login>`, `team:<org>/<slug>`, `group:<path>`, `role:<name>`, or a name from `groups`. */
const principals = z
  .array(text)
  .min(1)
  .meta({ description: "Principals (user:, team:, group:, role:) or names from `groups`" });

const reason = z.strictObject({
  minLength: z.int().min(0).meta({ description: "Shortest accepted --reason, in characters (default 15)" }),
});

const ticket = z.strictObject({
  pattern: regex.optional().meta({ description: "What a --ticket must match" }),
  required: z.boolean().optional().meta({ description: "Whether --ticket is required (default false)" }),
});

const environments = z.array(text).min(1);

const approvals = z
  .strictObject({
    required: z.int().min(1).meta({ description: "How many people other than the requester must approve" }),
    from: principals,
    environments: environments.optional().meta({ description: "Only these environments need approval" }),
    timeout: duration.optional().meta({ description: "How long a request stays open (default 24h)" }),
  })
  .meta({ description: "Second-person approval before the override is applied" });

/** Keys every overridable entry shares. */
const rules = {
  allow: principals.meta({ description: "Who may override; required: nothing is overridable by default" }),
  approvals: approvals.optional(),
  ttl: duration.optional().meta({ description: "Default TTL of an override" }),
  maxTtl: duration.optional().meta({ description: "Longest TTL that may be asked for" }),
  reason: reason.optional(),
  ticket: ticket.optional(),
};

const command = z
  .array(z.string())
  .min(1)
  .refine((argv) => argv[0] !== "", {
    error: "the first element is the program to run; it must not be empty",
  })
  .meta({ description: "argv run without a shell (plain git provider), with {placeholders}" });

const workflow = text.meta({ description: "GitHub: the workflow file dispatched" });
const ref = text.meta({
  description: "Branch or tag the workflow or pipeline runs on (default: the default branch)",
});

export const stageSchema = z
  .strictObject({
    mechanism: z.enum(["status", "variable", "guard"]).meta({ description: "How a waiver is applied" }),
    context: text.optional().meta({ description: "Commit status context (mechanism status)" }),
    variable: variableName("variable").optional().meta({ description: "CI variable (mechanism variable)" }),
    description: z.string().optional(),
    ...rules,
  })
  .meta({ description: "A pipeline stage that may be waived" });

export const flagSchema = z
  .strictObject({
    description: z.string().optional(),
    values: z.array(z.string()).min(1).optional().meta({ description: "Allowed values" }),
    pattern: regex.optional().meta({ description: "What a value must match (instead of values)" }),
    environments: environments.optional().meta({ description: "Environments; absent: repo-wide" }),
    ...rules,
  })
  .meta({ description: "A deploy flag that may be set" });

export const rolloutSchema = z
  .strictObject({
    workflow: workflow.optional(),
    ref: ref.optional(),
    command: command.optional(),
    environments: environments.meta({ description: "Environments that may be rolled out to" }),
    artifact: z.strictObject({
      pattern: regex.meta({ description: "What --artifact must match; anchor it with ^ and $" }),
    }),
    skippable: z.array(name("stage")).optional().meta({ description: "Stages a rollout may --skip" }),
    ...rules,
  })
  .meta({ description: "Artifact-only deploy, bypassing the build" });

export const failoverSchema = z
  .strictObject({
    variable: variableName("variable")
      .optional()
      .meta({ description: "CI variable holding the active target" }),
    targets: environments.meta({ description: "Regions, clusters or environments to switch between" }),
    workflow: workflow.optional(),
    ref: ref.optional(),
    command: command.optional(),
    environments: environments.optional(),
    ...rules,
  })
  .meta({ description: "Switching the active target" });

export const notifySchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("slack"),
    webhookUrlEnv: variableName("environment variable").meta({
      description: "Environment variable holding the Slack incoming-webhook URL",
    }),
  }),
  z.strictObject({
    type: z.literal("webhook"),
    url: url,
    secretEnv: variableName("environment variable")
      .optional()
      .meta({ description: "Environment variable holding the HMAC-SHA256 secret" }),
  }),
  z.strictObject({
    type: z.literal("issue"),
    number: z.int().min(1).meta({ description: "Tracking issue that gets a comment per event" }),
  }),
]);

/*
 * These values reach git as arguments and paths: a remote or branch starting with "-" would be
 * read as an option, and an allowed_signers path must not leave the repository.
 */

export const auditSchema = z.strictObject({
  branch: text
    .regex(gitName, "must be a plain branch name (letters, digits, . _ / -; not starting with -)")
    .default("optout/audit"),
  remote: text
    .regex(gitName, "must be a plain remote name (letters, digits, . _ / -; not starting with -)")
    .default("origin"),
  allowedSigners: text
    .regex(repoPath, "must be a path inside the repository (relative, no ..)")
    .default(".optout/allowed_signers"),
  namespace: text.default("optout-audit"),
  signingKey: text.optional().meta({ description: "Path of the SSH signing key (never the key itself)" }),
  signCommits: z.boolean().default(false),
});

export const defaultsSchema = z.strictObject({
  ttl: duration.optional().meta({ description: "Default TTL of stage and flag overrides (default 4h)" }),
  maxTtl: duration.optional().meta({ description: "Longest TTL that may be asked for (default 24h)" }),
  reason: reason.optional(),
  ticket: ticket.optional(),
});

export const reviewSchema = z.strictObject({
  allow: principals.optional().meta({ description: "Who may review overrides" }),
  required: z
    .boolean()
    .optional()
    .meta({ description: "Whether every override needs a review (default false)" }),
  within: duration.optional().meta({ description: "How soon a review is due (default 7d)" }),
  allowSelf: z.boolean().optional().meta({ description: "Whether one may review one's own override" }),
});

export const policyFileSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: "The JSON Schema of this file, for editors" }),
    version: z.literal(1).meta({ description: "Policy file format version" }),
    provider: z
      .enum(["github", "gitlab", "git"])
      .default("git")
      .meta({ description: "The forge, or plain git" }),
    repo: z
      .string()
      .regex(REPO_PATTERN, { error: 'must be "owner/name" or "group/subgroup/project"' })
      .optional()
      .meta({
        description:
          "owner/name (GitHub) or group/sub/project (GitLab); on plain git any stable name (init writes one). Every record carries it and readers compare with it; default: from the audit remote's URL",
      }),
    github: z
      .strictObject({
        apiUrl: url
          .optional()
          .meta({ description: "API base; GitHub Enterprise Server: https://HOST/api/v3" }),
      })
      .optional(),
    gitlab: z
      .strictObject({ url: url.optional().meta({ description: "GitLab host (default https://gitlab.com)" }) })
      .optional(),
    audit: auditSchema.prefault({}).meta({ description: "Where the signed ledger lives" }),
    defaults: defaultsSchema.optional().meta({ description: "Fallbacks for every entry" }),
    groups: z
      .record(name("group"), principals)
      .optional()
      .meta({ description: "Named lists of principals, usable in allow and approvals.from" }),
    stages: z
      .record(name("stage"), stageSchema)
      .optional()
      .meta({ description: "Pipeline stages that may be waived, by name" }),
    flags: z
      .record(variableName("flag"), flagSchema)
      .optional()
      .meta({ description: "Deploy flags, by variable name" }),
    rollout: rolloutSchema.optional(),
    failover: failoverSchema.optional(),
    notify: z.array(notifySchema).optional().meta({ description: "Where every override is announced" }),
    signers: z
      .record(text, text)
      .optional()
      .meta({ description: "Forge login → principal of their key in allowed_signers" }),
    pin: z.literal("default-branch").optional().meta({
      description: "Kept for older policies; the policy in force is always the default branch's copy",
    }),
    review: reviewSchema.optional().meta({ description: "Post-incident reviews of overrides" }),
  })
  .meta({ title: "optout policy", description: "Who may override which CI/CD stage, for how long" });

export type PolicyFile = z.output<typeof policyFileSchema>;
export type StageFile = z.output<typeof stageSchema>;
export type FlagFile = z.output<typeof flagSchema>;
export type RolloutFile = z.output<typeof rolloutSchema>;
export type FailoverFile = z.output<typeof failoverSchema>;
export type DefaultsFile = z.output<typeof defaultsSchema>;
export type EntryFile = StageFile | FlagFile | RolloutFile | FailoverFile;
