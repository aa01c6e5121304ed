/**
 * What the fake GitHub answers, per operation id of the OpenAPI description. Bodies are built
 * from the contract's schemas (every required field) with the fields that matter filled in from
 * the world; error bodies and status codes are GitHub's own (422 "No commit found for SHA", 409
 * for an existing variable, 422 "Unexpected inputs provided", …).
 */
import { actionHandlers } from "./actions.js";
import { type Call, canSee, ex, message, notFound, type Reply } from "./replies.js";
import { repoHandlers } from "./repos.js";
import type { FakeRepo } from "./state.js";

export { type Call, message, type Reply } from "./replies.js";

const handlers = { ...repoHandlers, ...actionHandlers };

function repoOf(c: Call): FakeRepo | Reply {
  const repo = c.world.repos.get(`${c.params.owner}/${c.params.repo}`.toLowerCase());
  return repo && canSee(repo, c.user) ? repo : notFound();
}

function isReply(x: unknown): x is Reply {
  return typeof (x as Reply).status === "number";
}

export function handle(operationId: string, c: Call): Reply {
  if (operationId === "users/get-authenticated" && c.user.installation) {
    return message(403, "Resource not accessible by integration");
  }
  if (operationId === "users/get-by-username") {
    const login = c.params.username!.toLowerCase();
    const u = [...c.world.users.values()].find((x) => x.login.toLowerCase() === login);
    if (!u) return notFound();
    return {
      status: 200,
      body: ex("public-user", { login: u.login, id: u.id, type: u.installation ? "Bot" : "User" }),
    };
  }
  if (operationId === "users/get-authenticated") {
    return { status: 200, body: ex("private-user", { login: c.user.login, id: c.user.id, type: "User" }) };
  }
  if (operationId === "teams/get-by-name") {
    const key = `${c.params.org}/${c.params.team_slug}`.toLowerCase();
    if (!c.world.teams.has(key)) return notFound();
    return {
      status: 200,
      body: ex("team-full", {
        slug: c.params.team_slug,
        name: c.params.team_slug,
        organization: ex("team-organization", { login: c.params.org }),
      }),
    };
  }
  if (operationId === "teams/get-membership-for-user-in-org") {
    const state = c.world.teams
      .get(`${c.params.org}/${c.params.team_slug}`.toLowerCase())
      ?.get(c.params.username!.toLowerCase());
    if (!state) return notFound();
    return {
      status: 200,
      body: { url: `https://api.github.com/teams/1/memberships/${c.params.username}`, role: "member", state },
    };
  }
  const h = handlers[operationId];
  if (!h) return message(501, `the fake does not implement ${operationId}`);
  const repo = repoOf(c);
  return isReply(repo) ? repo : h(c, repo);
}
