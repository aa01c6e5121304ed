/**
 * Where the GitLab token comes from, first found wins: OPTOUT_GITLAB_TOKEN, OPTOUT_GITLAB_OAUTH_TOKEN,
 * GITLAB_TOKEN, CI_JOB_TOKEN, then the login `glab` stored for the host (as `gh auth token` is
 * used on GitHub). How it is sent (https://docs.gitlab.com/api/rest/authentication/): an OAuth
 * access token as `Authorization: Bearer` (OPTOUT_GITLAB_OAUTH_TOKEN, a `gloas-` value, or a glab
 * login made with OAuth), a CI job token as `JOB-TOKEN`, anything else as `PRIVATE-TOKEN`. Only
 * the source's name is ever shown; the value goes into one header and nowhere else.
 */
import { NotAllowedError } from "../../errors.js";
import { findOnPath, toolOutput } from "../cli-tools.js";

export type TokenSource =
  | "OPTOUT_GITLAB_TOKEN"
  | "OPTOUT_GITLAB_OAUTH_TOKEN"
  | "GITLAB_TOKEN"
  | "CI_JOB_TOKEN"
  | `glab (${string})`;

export type Scheme = "private" | "job" | "bearer";

export interface Credentials {
  token: string;
  source: TokenSource;
  scheme: Scheme;
}

const envSources = [
  "OPTOUT_GITLAB_TOKEN",
  "OPTOUT_GITLAB_OAUTH_TOKEN",
  "GITLAB_TOKEN",
  "CI_JOB_TOKEN",
] as const;

function schemeOf(source: (typeof envSources)[number], token: string): Scheme {
  if (source === "CI_JOB_TOKEN") return "job";
  // gloas- is GitLab's prefix for OAuth credentials; OAuth is always a Bearer token.
  if (source === "OPTOUT_GITLAB_OAUTH_TOKEN" || token.startsWith("gloas-")) return "bearer";
  return "private";
}

/** The first token the environment gives, else glab's for `host`; undefined when there is none. */
export async function resolveCredentials(
  env: Record<string, string | undefined>,
  host: string,
): Promise<Credentials | undefined> {
  for (const source of envSources) {
    const token = env[source]?.trim();
    if (token) return { token, source, scheme: schemeOf(source, token) };
  }
  return glabCredentials(env, host);
}

/** The header that carries the token. */
export function authHeader(c: Credentials): [string, string] {
  if (c.scheme === "job") return ["job-token", c.token];
  if (c.scheme === "bearer") return ["authorization", `Bearer ${c.token}`];
  return ["private-token", c.token];
}

/**
 * glab's stored login for the host: `glab config get <key> --host <host>` (argument array, no
 * shell), which reads glab's config file or keyring. A login made in the browser is OAuth
 * (`is_oauth2`); glab refreshes it only when glab itself runs, so an expired one is refused
 * with what to do rather than sent to be rejected.
 */
async function glabCredentials(
  env: Record<string, string | undefined>,
  gitlabUrl: string,
): Promise<Credentials | undefined> {
  const glab = await findOnPath("glab", env);
  if (!glab) return undefined;
  const host = hostOf(gitlabUrl);
  const get = (key: string) => toolOutput(glab, ["config", "get", key, "--host", host], env);
  const token = await get("token");
  if (!token || /\s/.test(token)) return undefined;
  const source: TokenSource = `glab (${host})`;
  if ((await get("is_oauth2")) !== "true") return { token, source, scheme: "private" };
  const expiry = Date.parse((await get("oauth2_expiry_date")) ?? "");
  if (!Number.isNaN(expiry) && expiry <= Date.now()) {
    throw new NotAllowedError(`glab's OAuth login for ${host} expired at ${new Date(expiry).toISOString()}`, {
      hint: "run `glab auth status` (glab refreshes it), or set OPTOUT_GITLAB_TOKEN",
    });
  }
  return { token, source, scheme: "bearer" };
}

/** gitlab.example.com (with its port) from the API host URL. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
