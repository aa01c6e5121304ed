/**
 * GitHub Apps in the fake: a JWT signed with the app's private key (RS256, `iss` = the app id,
 * issued no more than 60 s ahead and valid for at most 10 minutes) authenticates the app itself,
 * which may only look up its installation on a repository and create an installation token.
 * https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
 */
import { createVerify, randomBytes } from "node:crypto";
import { ex, message, notFound, type Reply } from "./replies.js";
import type { FakeApp, FakeWorld } from "./state.js";

/** The app a well-formed, validly signed, current JWT belongs to; a Reply saying why not. */
export function appFromJwt(world: FakeWorld, jwt: string): FakeApp | Reply {
  const [h, p, sig] = jwt.split(".");
  const bad = message(401, "A JSON web token could not be decoded");
  if (!h || !p || !sig) return bad;
  let payload: { iss?: unknown; iat?: unknown; exp?: unknown };
  try {
    const header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as { alg?: string };
    if (header.alg !== "RS256") return bad;
    payload = JSON.parse(Buffer.from(p, "base64url").toString("utf8"));
  } catch {
    return bad;
  }
  const app = world.apps.get(Number(payload.iss));
  if (!app) return message(401, "Integration not found");
  const verify = createVerify("RSA-SHA256");
  verify.update(`${h}.${p}`);
  if (!verify.verify(app.publicKey, Buffer.from(sig, "base64url"))) return bad;
  const now = Math.floor(Date.now() / 1000);
  const iat = Number(payload.iat);
  const exp = Number(payload.exp);
  if (!(iat <= now + 60) || !(exp > now) || exp - iat > 600) {
    return message(
      401,
      "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
    );
  }
  return app;
}

function installationJson(app: FakeApp, id: number, repo: string) {
  return ex("installation", {
    id,
    app_id: app.id,
    app_slug: app.slug,
    target_type: "Organization",
    permissions: app.permissions,
    repository_selection: "selected",
    access_tokens_url: `https://api.github.com/app/installations/${id}/access_tokens`,
    html_url: `https://github.com/organizations/${repo.split("/")[0]}/settings/installations/${id}`,
  });
}

/** What an app (authenticated by its JWT) may ask. */
export function handleAsApp(
  world: FakeWorld,
  app: FakeApp,
  operationId: string,
  params: Record<string, string>,
  body: Record<string, unknown> | undefined,
): Reply {
  if (operationId === "apps/get-repo-installation") {
    const full = `${params.owner}/${params.repo}`.toLowerCase();
    const id = app.installations.get(full);
    return id === undefined ? notFound() : { status: 200, body: installationJson(app, id, full) };
  }
  if (operationId === "apps/create-installation-access-token") {
    const id = Number(params.installation_id);
    const repos = [...app.installations].filter(([, i]) => i === id).map(([r]) => r);
    if (repos.length === 0) return notFound();
    const asked = (body?.repositories as string[] | undefined) ?? [];
    const owner = repos[0]!.split("/")[0];
    const chosen = asked.length ? asked.map((n) => `${owner}/${n}`.toLowerCase()) : repos;
    if (chosen.some((r) => !repos.includes(r))) {
      return message(
        422,
        "There is at least one repository that does not exist or is not accessible to the parent installation.",
      );
    }
    const token = `ghs_${randomBytes(18).toString("hex")}`;
    const login = `${app.slug}[bot]`;
    const bot = [...world.users.values()].find((u) => u.login === login);
    world.users.set(token, {
      login,
      id: bot?.id ?? world.nextId(),
      token,
      installation: { appId: app.id, repos: new Set(chosen), permissions: app.permissions },
    });
    return {
      status: 201,
      body: ex("installation-token", {
        token,
        expires_at: new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
        permissions: app.permissions,
        repository_selection: "selected",
      }),
    };
  }
  // Anything else needs an installation token, not the app's own JWT.
  return message(403, "A JSON web token cannot be used to access this resource");
}
