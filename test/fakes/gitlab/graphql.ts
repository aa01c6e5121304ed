/**
 * POST /api/graphql, for the one query optout sends (who is acting and their level on a project;
 * src/providers/gitlab/api.ts whoAndLevel). Rules from https://docs.gitlab.com/api/graphql/:
 * a personal or OAuth token in PRIVATE-TOKEN or `Authorization: Bearer`; an unknown token is
 * 401 "Invalid token"; no token (or a job token, which GraphQL does not take) is an anonymous
 * request, whose `currentUser` is null. A field the schema does not have is a 200 with only
 * `errors` (GitLab validates the whole document first), as is every field when the fake plays
 * a GitLab older than 16.9 (`graphqlMaxAccessLevel: false`: Project.maxAccessLevel is missing).
 * `project(fullPath:)` is null for a project the user cannot see; `maxAccessLevel` is the
 * highest level from the project and its groups, 0 (NO_ACCESS) for none.
 */
import type { FakeUser } from "./model.js";
import type { Answer, FakeGitLab } from "./server.js";

/** Every name the fake's part of GitLab's GraphQL schema has (Query, User, Project, AccessLevel). */
const known = new Set([
  "query",
  "ID",
  "String",
  "currentUser",
  "id",
  "username",
  "project",
  "fullPath",
  "maxAccessLevel",
  "integerValue",
  "stringValue",
]);

export function graphql(
  fake: FakeGitLab,
  method: string,
  body: Record<string, unknown>,
  auth: { kind: "private" | "job" | "bearer" | "none"; user: FakeUser | undefined },
  violation: (text: string) => void,
): Answer {
  if (method !== "POST") {
    violation("GraphQL queries are POSTed");
    return { status: 404, body: { error: "404 Not Found" } };
  }
  if ((auth.kind === "private" || auth.kind === "bearer") && !auth.user) {
    return { status: 401, body: { errors: [{ message: "Invalid token" }] } };
  }
  const query = body.query;
  const variables = (body.variables ?? {}) as Record<string, unknown>;
  if (typeof query !== "string") {
    violation("a GraphQL request without a query");
    return { status: 200, body: { errors: [{ message: "No query string was present" }] } };
  }
  // The operation's name (after `query`) and variable names ($x) are the client's own.
  const names = query
    .replace(/\bquery\s+\w+/, "query")
    .replace(/\$\w+/g, "")
    .match(/[A-Za-z_]\w*/g);
  for (const name of names ?? []) {
    if (!known.has(name) || (name === "maxAccessLevel" && fake.graphqlMaxAccessLevel === false)) {
      return {
        status: 200,
        body: { errors: [{ message: `Field '${name}' doesn't exist on type 'Project'` }] },
      };
    }
  }
  const user = auth.kind === "private" || auth.kind === "bearer" ? auth.user : undefined;
  const data: Record<string, unknown> = {};
  if (/\bcurrentUser\b/.test(query)) {
    data.currentUser = user ? { id: `gid://gitlab/User/${user.id}`, username: user.username } : null;
  }
  if (/\bproject\s*\(/.test(query)) {
    const path = variables.project;
    if (typeof path !== "string") {
      violation("project(fullPath:) without the variable");
      return {
        status: 200,
        body: { errors: [{ message: "Variable $project of type ID! was provided invalid value" }] },
      };
    }
    const p = fake.project(path);
    const visible = p && (p.public || (user !== undefined && fake.canSee(p, user.id)));
    data.project = visible
      ? { maxAccessLevel: { integerValue: (user && fake.projectLevel(p, user.id)) ?? 0 } }
      : null;
  }
  return { status: 200, body: { data } };
}
