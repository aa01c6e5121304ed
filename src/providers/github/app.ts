/**
 * GitHub App authentication, for bots (the scheduled expire job, release automation): the app
 * id and private key from OPTOUT_GITHUB_APP_ID and OPTOUT_GITHUB_APP_PRIVATE_KEY become an
 * installation token for this repository, made by @octokit/auth-app (the app's JWT is signed
 * there, not by hand). Two requests: the repository's installation (which also names the app),
 * then a token limited to this one repository. The token acts as `<app-slug>[bot]`, which is
 * who the policy names (`user:optout-bot[bot]`) and who signs through `signers`.
 * https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/authenticating-as-a-github-app-installation
 */
import { NotAllowedError } from "../../errors.js";
import { scrub } from "./errors.js";

export interface AppSettings {
  appId: string;
  privateKey: string;
}

export interface AppToken {
  token: string;
  appId: string;
  slug: string;
  installationId: number;
}

/** The App's settings from the environment, when both are set. */
export function appSettings(env: Record<string, string | undefined>): AppSettings | undefined {
  const appId = env.OPTOUT_GITHUB_APP_ID?.trim();
  const key = env.OPTOUT_GITHUB_APP_PRIVATE_KEY?.trim();
  if (!appId && !key) return undefined;
  if (!appId || !key) {
    throw new NotAllowedError(
      "GitHub App authentication needs both OPTOUT_GITHUB_APP_ID and OPTOUT_GITHUB_APP_PRIVATE_KEY",
      {
        hint: `set ${appId ? "OPTOUT_GITHUB_APP_PRIVATE_KEY to the app's private key (PEM)" : "OPTOUT_GITHUB_APP_ID to the app's id"}`,
      },
    );
  }
  // CI secret stores often keep a PEM on one line with literal "\n".
  return { appId, privateKey: key.includes("\\n") ? key.replaceAll("\\n", "\n") : key };
}

interface RequestFailure {
  status?: number;
  message?: string;
}

export async function installationToken(
  app: AppSettings,
  o: { apiUrl: string; owner: string; repo: string; fetch: typeof fetch },
): Promise<AppToken> {
  const [{ createAppAuth }, { Octokit }] = await Promise.all([
    import("@octokit/auth-app"),
    import("@octokit/core"),
  ]);
  const octokit = new Octokit({
    baseUrl: o.apiUrl,
    userAgent: "optout",
    headers: { "x-github-api-version": "2022-11-28" },
    request: { fetch: o.fetch },
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  const auth = createAppAuth({ appId: app.appId, privateKey: app.privateKey, request: octokit.request });
  const where = `${o.owner}/${o.repo}`;
  try {
    const jwt = (await auth({ type: "app" })).token;
    const inst = await octokit.request("GET /repos/{owner}/{repo}/installation", {
      owner: o.owner,
      repo: o.repo,
      headers: { authorization: `bearer ${jwt}` },
    });
    const installationId = inst.data.id;
    const slug = inst.data.app_slug;
    const token = await auth({ type: "installation", installationId, repositoryNames: [o.repo] });
    return { token: token.token, appId: app.appId, slug, installationId };
  } catch (e) {
    const f = e as RequestFailure;
    const said = scrub(f.message ?? String(e), [app.privateKey]);
    if (f.status === 404) {
      throw new NotAllowedError(`GitHub App ${app.appId} is not installed on ${where} (404)`, {
        hint: `install it on ${where} (GitHub: Settings → GitHub Apps), or check OPTOUT_GITHUB_APP_ID`,
      });
    }
    if (f.status === 401 || f.status === 403) {
      throw new NotAllowedError(`GitHub refused GitHub App ${app.appId}'s credentials (${f.status})`, {
        hint: `check OPTOUT_GITHUB_APP_ID and that OPTOUT_GITHUB_APP_PRIVATE_KEY is one of the app's current private keys; GitHub said: "${said}"`,
      });
    }
    if (f.status === undefined) {
      // Not an HTTP answer: the key itself could not be used to sign.
      throw new NotAllowedError(
        `cannot use OPTOUT_GITHUB_APP_PRIVATE_KEY to sign for GitHub App ${app.appId}`,
        {
          hint: `it must be the app's private key in PEM form ("-----BEGIN RSA PRIVATE KEY-----"); ${said}`,
        },
      );
    }
    throw new NotAllowedError(
      `could not get an installation token for GitHub App ${app.appId} on ${where} (${f.status})`,
      {
        hint: `GitHub said: "${said}"`,
      },
    );
  }
}
