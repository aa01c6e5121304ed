/**
 * Who is acting and what they are: identity from `GET /user`, roles from
 * the collaborator permission endpoint, teams from team memberships. Answers are cached for the
 * run: an override asks about the same principals several times (authorize, then revert rules).
 */
import { type Principal, userNames } from "../../core/policy.js";
import type { Actor } from "../../core/record.js";
import { ForgeError, NotAllowedError } from "../../errors.js";
import { type GhContext, repoParams } from "./context.js";
import { membershipSchema, parse, permissionSchema, userSchema } from "./schemas.js";

/** GitHub's repository roles, weakest first. */
export const roleOrder = ["read", "triage", "write", "maintain", "admin"] as const;

export class Principals {
  private me?: Promise<Actor>;
  private readonly answers = new Map<string, Promise<boolean>>();

  constructor(private readonly gh: GhContext) {}

  identity(): Promise<Actor> {
    this.me ??= (async () => {
      // An App installation token may not read GET /user: it acts as its bot user.
      const bot = await this.gh.client.bot();
      const { data } = bot
        ? await this.gh.client.request<unknown>(
            "GET /users/{username}",
            { username: bot.login },
            { action: "read the app's bot user" },
          )
        : await this.gh.client
            .request<unknown>("GET /user", {}, { action: "read the authenticated user" })
            .catch((e: unknown) => {
              // Only an App installation token may not read GET /user, and it does not say
              // which app it belongs to: GITHUB_TOKEN is one.
              if (e instanceof ForgeError && e.status === 403) {
                throw new NotAllowedError(
                  "GitHub: this token cannot say who is acting (an App installation token, such as GITHUB_TOKEN)",
                  {
                    hint: "use a GitHub App (OPTOUT_GITHUB_APP_ID and OPTOUT_GITHUB_APP_PRIVATE_KEY), or a user's token in OPTOUT_GITHUB_TOKEN",
                  },
                );
              }
              throw e;
            });
      const u = parse(userSchema, data, bot ? "GET /users/{username}" : "GET /user");
      return { provider: "github", login: u.login, id: String(u.id) };
    })();
    return this.me;
  }

  has(actor: Actor, p: Principal): Promise<boolean> {
    if (p.kind === "user") return Promise.resolve(userNames(p, actor.login, "github"));
    // GitLab groups cannot cover a GitHub actor (the policy check refuses them on github).
    if (p.kind === "group") return Promise.resolve(false);
    const key = `${actor.login.toLowerCase()} ${p.kind}:${p.kind === "role" ? p.role : `${p.org}/${p.slug}`}`;
    let answer = this.answers.get(key);
    if (!answer) {
      answer = p.kind === "role" ? this.hasRole(actor, p.role) : this.inTeam(actor, p.org, p.slug);
      this.answers.set(key, answer);
    }
    return answer;
  }

  private async hasRole(actor: Actor, role: string): Promise<boolean> {
    const r = await this.gh.client.request<unknown>(
      "GET /repos/{owner}/{repo}/collaborators/{username}/permission",
      { ...repoParams(this.gh), username: actor.login },
      { action: "read collaborator roles", accept: [404] },
    );
    // 404: not a collaborator (or no such user), so no role at all.
    if (r.status === 404) return false;
    const p = parse(
      permissionSchema,
      r.data,
      "GET /repos/{owner}/{repo}/collaborators/{username}/permission",
    );
    return roleCovers(role, p.role_name ?? "", p.permission);
  }

  private async inTeam(actor: Actor, org: string, slug: string): Promise<boolean> {
    const r = await this.gh.client.request<unknown>(
      "GET /orgs/{org}/teams/{team_slug}/memberships/{username}",
      { org, team_slug: slug, username: actor.login },
      { action: "read team memberships", on: `team ${org}/${slug}`, accept: [404] },
    );
    // A pending invitation is not membership yet.
    if (r.status !== 404) return parse(membershipSchema, r.data, "GET team membership").state === "active";
    // 404: not a member, or no team GitHub shows this token. Only the first is an answer: a
    // principal that cannot be checked is an error naming it, not a rule matching nobody.
    const team = await this.gh.client.request<unknown>(
      "GET /orgs/{org}/teams/{team_slug}",
      { org, team_slug: slug },
      { action: "read teams", on: `team ${org}/${slug}`, accept: [404] },
    );
    if (team.status === 404) {
      throw new NotAllowedError(
        `cannot check team:${org}/${slug}: GitHub does not show this team to the token (404)`,
        {
          hint: `either the policy names a team that does not exist (check the org and the slug), or the token cannot read ${org}'s teams (it needs Members: read)`,
        },
      );
    }
    return false;
  }
}

/**
 * Whether a repository role satisfies `role:<required>`. Standard roles compare by rank
 * (use `role_name`: `permission` folds maintain→write and triage→read). A custom role in the
 * policy matches only itself; a user's custom role counts as the base permission GitHub reports
 * for it, never more.
 */
export function roleCovers(required: string, roleName: string, permission: string): boolean {
  const rank = (r: string) => (roleOrder as readonly string[]).indexOf(r.toLowerCase());
  const need = rank(required);
  if (need < 0) return roleName.toLowerCase() === required.toLowerCase();
  const have = rank(roleName) >= 0 ? rank(roleName) : rank(permission);
  return have >= need;
}
