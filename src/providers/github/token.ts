/**
 * Where the GitHub token comes from, first found wins: OPTOUT_GITHUB_TOKEN, a GitHub App
 * (OPTOUT_GITHUB_APP_ID + OPTOUT_GITHUB_APP_PRIVATE_KEY → an installation token, app.ts),
 * GH_TOKEN, GITHUB_TOKEN, then `gh auth token`. The App comes before GH_TOKEN and GITHUB_TOKEN
 * because a workflow that configures an App always has a GITHUB_TOKEN too. Only the source's
 * name is ever shown (`optout auth status`); the value goes to octokit and nowhere else.
 */
import { NotAllowedError } from "../../errors.js";
import { findOnPath, toolOutput } from "../cli-tools.js";
import { appSettings, installationToken } from "./app.js";

export type TokenSource =
  | "OPTOUT_GITHUB_TOKEN"
  | "GH_TOKEN"
  | "GITHUB_TOKEN"
  | "gh auth token"
  | `GitHub App ${string}`;

export interface Token {
  value: string;
  source: TokenSource;
  /** Set for a GitHub App installation token: whom it acts as, and the app's id. */
  bot?: { login: string; appId: number };
}

export interface TokenContext {
  apiUrl: string;
  owner: string;
  repo: string;
  /** The client's fetch (timeouts, request log) for the App's own requests. */
  fetch: typeof fetch;
}

export async function resolveToken(env: Record<string, string | undefined>, c: TokenContext): Promise<Token> {
  const explicit = env.OPTOUT_GITHUB_TOKEN?.trim();
  if (explicit) return { value: explicit, source: "OPTOUT_GITHUB_TOKEN" };
  const app = appSettings(env);
  if (app) {
    const t = await installationToken(app, c);
    return {
      value: t.token,
      source: `GitHub App ${t.slug} (id ${t.appId}, installation ${t.installationId})`,
      bot: { login: `${t.slug}[bot]`, appId: Number(t.appId) },
    };
  }
  for (const name of ["GH_TOKEN", "GITHUB_TOKEN"] as const) {
    const value = env[name]?.trim();
    if (value) return { value, source: name };
  }
  const apiUrl = c.apiUrl;
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
