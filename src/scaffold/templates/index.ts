/** The pipeline files for a CI system, and the examples/ tree scripts/gen-docs.mjs writes from them. */
import { type InitAnswers, policyObject } from "../policy.js";
import type { PipelineFile, TemplateInput } from "./common.js";
import { githubFiles } from "./github.js";
import { gitlabFiles } from "./gitlab.js";
import { shellFiles } from "./shell.js";

export type { PipelineFile, TemplateInput } from "./common.js";

/** Which CI runs the pipeline: GitHub Actions, GitLab CI, or anything else (a shell wrapper). */
export type CiSystem = "github" | "gitlab" | "any";

export function pipelineFiles(ci: CiSystem, input: TemplateInput): PipelineFile[] {
  if (ci === "github") return githubFiles(input);
  if (ci === "gitlab") return gitlabFiles(input);
  return shellFiles(input);
}

/** The answers examples/ is rendered from: a stage per mechanism the provider supports. */
export function exampleAnswers(ci: CiSystem): InitAnswers {
  const forge = ci !== "any";
  return {
    provider: ci === "any" ? "git" : ci,
    repo: "acme/shop",
    stages: forge
      ? [
          { name: "lint", mechanism: "guard" },
          { name: "security-scan", mechanism: "variable", variable: "OPTOUT_SKIP_SECURITY_SCAN" },
          { name: "build", mechanism: "status", context: "ci/build" },
          { name: "e2e", mechanism: "status", context: "ci/e2e" },
        ]
      : [{ name: "lint", mechanism: "guard" }],
    allow: forge ? ["user:dana", "user:lee"] : ["user:dana@example.com", "user:lee@example.com"],
    ttl: "4h",
    maxTtl: "24h",
    notify: [],
  };
}

/** A forge's example policy: the init answers plus the rollout and failover the example workflows serve. */
export function examplePolicy(ci: "github" | "gitlab"): string {
  const github = ci === "github";
  const policy = {
    ...policyObject(exampleAnswers(ci)),
    rollout: {
      ...(github ? { workflow: "optout-deploy.yml" } : {}),
      environments: ["staging", "production"],
      artifact: { pattern: "^registry\\.example\\.com/acme/shop@sha256:[0-9a-f]{64}$" },
      skippable: ["e2e"],
      allow: ["oncall"],
    },
    failover: {
      variable: "ACTIVE_REGION",
      targets: ["us-east-1", "eu-west-1"],
      ...(github ? { workflow: "optout-failover.yml" } : { ref: "main" }),
      allow: ["oncall"],
    },
  };
  return `${JSON.stringify(policy, null, 2)}\n`;
}
