/**
 * Who is acting and what they are: the token's user (GET /user), their role on the project and
 * their group memberships, inherited ones included (GET …/members/all/:user_id).
 * https://docs.gitlab.com/api/members/#get-a-member-of-a-group-or-project-including-inherited-and-invited-members
 */
import type { Principal } from "../../core/policy.js";
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

  constructor(
    private readonly api: GitLabApi,
    private readonly warn: (text: string) => void,
  ) {}

  identity(): Promise<Actor> {
    this.me ??= this.api.currentUser().then(
      (u) => ({ provider: "gitlab", login: u.username, id: String(u.id) }),
      (e: unknown) => {
        this.me = undefined; // a failure is not remembered: asking again asks GitLab again
        throw e;
      },
    );
    return this.me;
  }

  async hasPrincipal(actor: Actor, p: Principal): Promise<boolean> {
    switch (p.kind) {
      case "user":
        // GitLab usernames are unique case-insensitively.
        return actor.provider === "gitlab" && actor.login.toLowerCase() === p.login.toLowerCase();
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
      level = this.api.projectAccess(Number(actor.id)).then((l) => {
        if (l === undefined) this.warn(`${actor.login} is not a member of ${this.api.ctx.repo} on GitLab`);
        return l;
      });
      this.projectLevel.set(actor.id, level);
    }
    return level;
  }
}
