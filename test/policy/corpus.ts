/**
 * Malformed policies and the first line each must produce (`<file>: <json.path>: <problem>`).
 * Paths are relative to the repository root, and so are the messages when optout runs there with
 * `--config <file>`: test/policy/corpus.test.ts checks loadPolicy, and the CLI test of
 * `optout policy check` reuses this table.
 */
import type { ProviderName } from "../../src/core/policy.js";

export interface BadPolicy {
  /** Relative to the repository root. */
  file: string;
  /** `--provider`, when the case is about the override. */
  provider?: ProviderName;
  /**
   * The first problem line. Not anchored at the start (the CLI prefixes "optout: "); `m` so
   * that `$` is the end of that line when a hint line follows.
   */
  expect: RegExp;
}

const dir = "test/fixtures/policies/bad";

export const badPolicies: BadPolicy[] = [
  {
    file: `${dir}/syntax-error.json`,
    expect:
      /test\/fixtures\/policies\/bad\/syntax-error\.json: line 4, column 3: invalid JSON: expected "," or "}"; missing a comma\?$/m,
  },
  {
    file: `${dir}/dotrc-syntax/.optoutrc`,
    expect:
      /test\/fixtures\/policies\/bad\/dotrc-syntax\/\.optoutrc: line 4, column 58: invalid JSON: trailing comma before "}"$/m,
  },
  { file: `${dir}/empty.json`, expect: /test\/fixtures\/policies\/bad\/empty\.json: the file is empty$/m },
  {
    file: `${dir}/not-an-object.json`,
    expect: /test\/fixtures\/policies\/bad\/not-an-object\.json: the policy must be an object, not a list$/m,
  },
  {
    file: `${dir}/version-2.json`,
    expect:
      /test\/fixtures\/policies\/bad\/version-2\.json: version: unsupported version 2; this optout reads version 1$/m,
  },
  {
    file: `${dir}/version-missing.json`,
    expect:
      /test\/fixtures\/policies\/bad\/version-missing\.json: version: missing; this optout reads version 1$/m,
  },
  {
    file: `${dir}/unknown-key-top.json`,
    expect:
      /test\/fixtures\/policies\/bad\/unknown-key-top\.json: stgaes: unknown key; did you mean stages\?$/m,
  },
  {
    file: `${dir}/unknown-key-nested.json`,
    expect:
      /test\/fixtures\/policies\/bad\/unknown-key-nested\.json: stages\.lint\.alow: unknown key; did you mean allow\?$/m,
  },
  {
    file: `${dir}/undefined-group.json`,
    expect:
      /test\/fixtures\/policies\/bad\/undefined-group\.json: stages\.lint\.allow\[0\]: undefined group "oncal"; did you mean oncall\?$/m,
  },
  {
    file: `${dir}/group-in-group.json`,
    expect:
      /test\/fixtures\/policies\/bad\/group-in-group\.json: groups\.leads\[0\]: "oncall" is a group; a group may only list principals/,
  },
  {
    file: `${dir}/bad-team.json`,
    expect: /test\/fixtures\/policies\/bad\/bad-team\.json: groups\.oncall\[0\]: team: needs org\/slug$/m,
  },
  {
    file: `${dir}/unknown-principal-kind.json`,
    expect:
      /test\/fixtures\/policies\/bad\/unknown-principal-kind\.json: stages\.lint\.allow\[0\]: unknown principal kind "usr"$/m,
  },
  {
    file: `${dir}/role-unknown.json`,
    expect:
      /test\/fixtures\/policies\/bad\/role-unknown\.json: stages\.lint\.allow\[0\]: unknown role "owner" for provider github$/m,
  },
  {
    file: `${dir}/team-on-gitlab.json`,
    expect:
      /test\/fixtures\/policies\/bad\/team-on-gitlab\.json: stages\.lint\.allow\[0\]: team: principals need GitHub; provider gitlab cannot check them$/m,
  },
  {
    file: `${dir}/team-with-provider-override.json`,
    provider: "git",
    expect:
      /test\/fixtures\/policies\/bad\/team-with-provider-override\.json: groups\.oncall\[0\]: team: principals need GitHub; provider git \(from --provider\) cannot check them$/m,
  },
  {
    file: `${dir}/invalid-regex.json`,
    expect:
      /test\/fixtures\/policies\/bad\/invalid-regex\.json: defaults\.ticket\.pattern: invalid regular expression: /,
  },
  {
    file: `${dir}/ttl-over-max.json`,
    expect:
      /test\/fixtures\/policies\/bad\/ttl-over-max\.json: stages\.e2e\.ttl: ttl 30h is longer than maxTtl 24h/,
  },
  {
    file: `${dir}/defaults-ttl-over-max.json`,
    expect:
      /test\/fixtures\/policies\/bad\/defaults-ttl-over-max\.json: defaults\.ttl: ttl 8h is longer than maxTtl 2h/,
  },
  {
    file: `${dir}/bad-duration.json`,
    expect:
      /test\/fixtures\/policies\/bad\/bad-duration\.json: stages\.lint\.ttl: "4 hours" is not a duration$/m,
  },
  {
    file: `${dir}/status-on-git.json`,
    expect:
      /test\/fixtures\/policies\/bad\/status-on-git\.json: stages\.lint\.mechanism: "status" needs a forge; provider git cannot post commit statuses$/m,
  },
  {
    file: `${dir}/status-without-context.json`,
    expect:
      /test\/fixtures\/policies\/bad\/status-without-context\.json: stages\.lint\.context: required with "mechanism": "status"$/m,
  },
  {
    file: `${dir}/mechanism-typo.json`,
    expect:
      /test\/fixtures\/policies\/bad\/mechanism-typo\.json: stages\.e2e\.mechanism: must be one of "status", "variable" or "guard"; did you mean "guard"\?$/m,
  },
  {
    file: `${dir}/wrong-type.json`,
    expect:
      /test\/fixtures\/policies\/bad\/wrong-type\.json: stages\.lint\.allow: expected a list, got a string$/m,
  },
  {
    file: `${dir}/secret-token-value.json`,
    expect:
      /test\/fixtures\/policies\/bad\/secret-token-value\.json: stages\.lint\.description: looks like a GitHub token; secrets do not belong in the policy file/,
  },
  {
    file: `${dir}/secret-webhookurl-key.json`,
    expect:
      /test\/fixtures\/policies\/bad\/secret-webhookurl-key\.json: notify\[0\]\.webhookUrl: secrets do not belong in the policy file; put it in an environment variable and name it in webhookUrlEnv\/secretEnv$/m,
  },
  {
    file: `${dir}/secret-slack-url.json`,
    expect:
      /test\/fixtures\/policies\/bad\/secret-slack-url\.json: notify\[0\]\.url: looks like a Slack webhook URL; secrets do not belong in the policy file/,
  },
  {
    file: `${dir}/notify-type-typo.json`,
    expect:
      /test\/fixtures\/policies\/bad\/notify-type-typo\.json: notify\[0\]\.type: must be one of "slack", "webhook" or "issue"; did you mean "slack"\?$/m,
  },
  {
    file: `${dir}/flag-values-and-pattern.json`,
    expect:
      /test\/fixtures\/policies\/bad\/flag-values-and-pattern\.json: flags\.DEPLOY_FREEZE_BYPASS: has both values and pattern; keep one$/m,
  },
  {
    file: `${dir}/flag-env-duplicate.json`,
    expect:
      /test\/fixtures\/policies\/bad\/flag-env-duplicate\.json: flags\.DEPLOY_FREEZE_BYPASS\.environments\[2\]: "staging" is listed twice$/m,
  },
  {
    file: `${dir}/skippable-unknown.json`,
    expect:
      /test\/fixtures\/policies\/bad\/skippable-unknown\.json: rollout\.skippable\[1\]: unknown stage "security-scan"$/m,
  },
  {
    file: `${dir}/rollout-no-command-git.json`,
    expect:
      /test\/fixtures\/policies\/bad\/rollout-no-command-git\.json: rollout: needs "command" with provider git$/m,
  },
  {
    file: `${dir}/rollout-environments-empty.json`,
    expect:
      /test\/fixtures\/policies\/bad\/rollout-environments-empty\.json: rollout\.environments: must not be empty$/m,
  },
  {
    file: `${dir}/failover-github-no-way.json`,
    expect:
      /test\/fixtures\/policies\/bad\/failover-github-no-way\.json: failover: needs "variable" or "workflow" with provider github$/m,
  },
  {
    file: `${dir}/approvals-environment-unknown.json`,
    expect:
      /test\/fixtures\/policies\/bad\/approvals-environment-unknown\.json: rollout\.approvals\.environments\[0\]: "prod" is not one of its environments \(staging, production\)$/m,
  },
  {
    file: `${dir}/command-placeholder-typo.json`,
    expect:
      /test\/fixtures\/policies\/bad\/command-placeholder-typo\.json: rollout\.command\[1\]: unknown placeholder \{artefact\}; did you mean \{artifact\}\?$/m,
  },
  {
    file: `${dir}/yaml-syntax.yaml`,
    expect:
      /test\/fixtures\/policies\/bad\/yaml-syntax\.yaml: line 5, column 10: invalid YAML: missed comma between flow collection entries$/m,
  },
  {
    file: `${dir}/yaml-bad-principal.yml`,
    expect:
      /test\/fixtures\/policies\/bad\/yaml-bad-principal\.yml: stages\.lint\.allow\[0\]: team: needs org\/slug$/m,
  },
  {
    file: `${dir}/package-json/package.json`,
    expect:
      /test\/fixtures\/policies\/bad\/package-json\/package\.json: optout\.stages\.e2e\.ttl: ttl 2d is longer than maxTtl 1d$/m,
  },
  {
    file: `${dir}/remote-option-injection.json`,
    expect:
      /remote-option-injection\.json: audit\.remote: must be a plain remote name .*not starting with -\)$/m,
  },
  {
    file: `${dir}/signers-path-escape.json`,
    expect:
      /signers-path-escape\.json: audit\.allowedSigners: must be a path inside the repository \(relative, no \.\.\)$/m,
  },
];

/** Secrets written into the corpus: no message may repeat them. */
export const corpusSecrets = [
  "ghp_EXAMPLEexampleEXAMPLEexample0000",
  "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
  "T00000000/B00000000",
  "chat.example.com/incoming/abc",
];
