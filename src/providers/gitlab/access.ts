/**
 * Who is acting and what they are: the token's user (GET /user), their role on the project and
 * their group memberships, inherited ones included (GET …/members/all/:user_id). When the policy
 * has role principals, the user and their level come in one GraphQL request (api.whoAndLevel),
 * so a role check costs nothing more than knowing who is acting.
 * https://docs.gitlab.com/api/members/#get-a-member-of-a-group-or-project-including-inherited-and-invited-members
 */
import { type Policy, type Principal, userNames } from "../../core/policy.js";
import type { Actor } from "../../core/record.js";
import { NotAllowedError, UsageError } from "../../errors.js";
import type { GitLabApi } from "./api.js";

/** GitLab access levels (https://docs.gitlab.com/api/members/#roles); compared numerically. */
export const roleLevels: Readonly<Record<string, number>> = {
  guest: 10,
  reporter: 20,
  developer: 30,
  maintainer: 40,
  owner: 50,
};

export class Access {
  private me: Promise<Actor> | undefined;
  private projectLevel = new Map<string, Promise<number | undefined>>();
  /** Levels GitLab gave with the identity (GraphQL), by user id. */
  private prefetched = new Map<string, number | undefined>();
  private readonly policyNamesRoles: boolean;

  constructor(
    private readonly api: GitLabApi,
    private readonly warn: (text: string) => void,
    policy: Pick<Policy, "groups" | "stages" | "flags" | "rollout" | "failover">,
  ) {
    this.policyNamesRoles = namesRoles(policy);
  }

  identity(): Promise<Actor> {
    this.me ??= this.whoIsActing().catch((e: unknown) => {
      this.me = undefined; // a failure is not remembered: asking again asks GitLab again
      throw e;
    });
    return this.me;
  }

  /**
   * GET /user; when the policy has role principals, one GraphQL request instead that also says
   * the actor's level on the project, so the role check costs no request of its own.
   */
  private async whoIsActing(): Promise<Actor> {
    const who = this.policyNamesRoles ? await this.api.whoAndLevel() : undefined;
    const u = who?.user ?? (await this.api.currentUser());
    if (who) this.prefetched.set(String(u.id), who.level);
    return { provider: "gitlab", login: u.username, id: String(u.id) };
  }

  async hasPrincipal(actor: Actor, p: Principal): Promise<boolean> {
    switch (p.kind) {
      case "user":
        return actor.provider === "gitlab" && userNames(p, actor.login, "gitlab");
      case "role": {
        const needed = roleLevels[p.role];
        if (needed === undefined) {
          throw new UsageError(`role:${p.role} is not a GitLab role`, {
            hint: `GitLab roles: ${Object.keys(roleLevels).join(", ")}`,
          });
        }
        const level = await this.levelOn(actor);
        return level !== undefined && level >= needed;
      }
      case "group": {
        if (actor.provider !== "gitlab") return false;
        // Any membership counts (Minimal Access, level 5, is not membership).
        const level = await this.api.groupAccess(p.path, Number(actor.id));
        if (level === null) {
          // A principal that cannot be checked is an error naming it, never a rule that silently
          // matches nobody. GitLab cannot tell us which of the two it is.
          throw new NotAllowedError(
            `cannot check group:${p.path}: GitLab does not show this group to ${actor.login} (404 Group Not Found)`,
            {
              hint: `either it is private and ${actor.login} is not in it, or the policy names a group that does not exist (use its full path, e.g. acme/platform/oncall)`,
            },
          );
        }
        return level !== undefined && level >= roleLevels.guest!;
      }
      case "team":
        throw new UsageError(`team:${p.org}/${p.slug} is a GitHub team; GitLab cannot check it`, {
          hint: "GitLab's equivalent is group:<full/path>",
        });
    }
  }

  private levelOn(actor: Actor): Promise<number | undefined> {
    if (actor.provider !== "gitlab") return Promise.resolve(undefined);
    let level = this.projectLevel.get(actor.id);
    if (!level) {
      const known = this.prefetched.has(actor.id);
      const asked = known
        ? Promise.resolve(this.prefetched.get(actor.id))
        : this.api.projectAccess(Number(actor.id));
      level = asked.then((l) => {
        if (l === undefined) this.warn(`${actor.login} is not a member of ${this.api.ctx.repo} on GitLab`);
        return l;
      });
      this.projectLevel.set(actor.id, level);
    }
    return level;
  }
}

/** Whether any entry or group of the policy names a `role:` principal. */
function namesRoles(policy: Pick<Policy, "groups" | "stages" | "flags" | "rollout" | "failover">): boolean {
  const lists = [
    ...Object.values(policy.groups),
    ...[...Object.values(policy.stages), ...Object.values(policy.flags), policy.rollout, policy.failover].map(
      (e) => e?.allow ?? [],
    ),
  ];
  return lists.some((l) => l.some((p) => p.kind === "role"));
}
