/**
 * Where the GitHub token comes from (cli.md, Credentials): OPTOUT_GITHUB_TOKEN > GH_TOKEN >
 * GITHUB_TOKEN > `gh auth token`. Only the source's name ever leaves this module's callers'
 * hands for display (`optout auth status`); the value goes to octokit and nowhere else.
 */
import { NotAllowedError } from "../../errors.js";
import { findOnPath, toolOutput } from "../cli-tools.js";

export type TokenSource = "OPTOUT_GITHUB_TOKEN" | "GH_TOKEN" | "GITHUB_TOKEN" | "gh auth token";

export interface Token {
  value: string;
  source: TokenSource;
}

const envSources = ["OPTOUT_GITHUB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN"] as const;

export async function resolveToken(env: Record<string, string | undefined>, apiUrl: string): Promise<Token> {
  for (const name of envSources) {
    const value = env[name]?.trim();
    if (value) return { value, source: name };
  }
  const fromGh = await ghAuthToken(env, apiUrl);
  if (fromGh) return { value: fromGh, source: "gh auth token" };
  throw new NotAllowedError("not authenticated to GitHub: no token found", {
    hint: "set OPTOUT_GITHUB_TOKEN (or GH_TOKEN / GITHUB_TOKEN), or log in with `gh auth login`",
  });
}

/** The GitHub CLI's token for the API's host, when `gh` is installed and logged in. */
async function ghAuthToken(
  env: Record<string, string | undefined>,
  apiUrl: string,
): Promise<string | undefined> {
  const gh = await findOnPath("gh", env);
  if (!gh) return undefined;
  const host = ghHost(apiUrl);
  // Argument array, no shell: nothing from the environment is interpreted.
  const args = ["auth", "token", ...(host === "github.com" ? [] : ["--hostname", host])];
  const token = await toolOutput(gh, args, env);
  return token && !/\s/.test(token) ? token : undefined;
}

/** The host `gh` knows the server by: github.com for api.github.com, else the API's own host. */
export function ghHost(apiUrl: string): string {
  try {
    const host = new URL(apiUrl).host;
    return host === "api.github.com" ? "github.com" : host;
  } catch {
    return "github.com";
  }
}
