/** `optout help <topic>` pages. */
import { exitCodeTable } from "../errors.js";

export const environment: ReadonlyArray<readonly [string, string]> = [
  [
    "OPTOUT_GITHUB_TOKEN, GH_TOKEN, GITHUB_TOKEN",
    "GitHub token, first one set wins (the GitHub App comes before GH_TOKEN; then `gh auth token`)",
  ],
  [
    "OPTOUT_GITHUB_APP_ID, OPTOUT_GITHUB_APP_PRIVATE_KEY",
    "a GitHub App (id, PEM private key): optout acts as its bot with an installation token",
  ],
  ["GITHUB_API_URL", "GitHub API base (after policy github.apiUrl; default https://api.github.com)"],
  [
    "OPTOUT_GITLAB_TOKEN, OPTOUT_GITLAB_OAUTH_TOKEN, GITLAB_TOKEN, CI_JOB_TOKEN",
    "GitLab token, first one set wins (OAuth and gloas- as Bearer, CI_JOB_TOKEN as a job token; then glab's login)",
  ],
  ["CI_SERVER_URL", "GitLab host (after policy gitlab.url; default https://gitlab.com)"],
  ["OPTOUT_HTTP_TIMEOUT_MS", "per forge request timeout (default 20000)"],
  ["OPTOUT_POLL_INTERVAL_MS", "how often --wait polls a workflow run or pipeline (default 5000)"],
  ["OPTOUT_SIGNING_KEY", "path of the SSH key that signs ledger records (after policy audit.signingKey)"],
  ["SSH_AUTH_SOCK", "ssh-agent socket, used for encrypted or hardware-backed keys"],
  ["HOME", "where ~/.ssh/id_ed25519, the last-resort signing key, is looked up"],
  ["CI", "set (and not 0/false): never prompt, no spinner"],
  ["NO_COLOR", "set: no colour"],
  ["FORCE_COLOR", "0: no colour; anything else: colour even when not a terminal"],
  ["OPTOUT_DEBUG", "1: stack traces and debug lines on stderr, as --verbose"],
  [
    "OPTOUT_APPEND_TIMEOUT_MS",
    "how long an append keeps retrying a rejected push before queueing (default 60000)",
  ],
  ["OPTOUT_NOW", "an ISO 8601 time optout uses instead of the clock (tests, replays)"],
  ["GITHUB_OUTPUT", "guard --format github appends skip=true|false to this file"],
  ["GITHUB_HEAD_REF, GITHUB_REF_NAME, CI_COMMIT_REF_NAME", "the ref guard checks, when --ref is not given"],
  ["GITHUB_SHA, CI_COMMIT_SHA", "the commit guard checks, when --sha is not given"],
];

export const topics: Record<string, () => string> = {
  "exit-codes": () =>
    [
      "Exit codes of optout:",
      "",
      ...exitCodeTable.map(([code, text]) => `  ${String(code).padEnd(4)} ${text}`),
      "",
    ].join("\n"),
  environment: () => {
    const width = Math.max(...environment.map(([k]) => k.length));
    return [
      "Environment variables optout reads (secrets only ever come from the environment):",
      "",
      ...environment.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
      "",
      "",
    ].join("\n");
  },
};
