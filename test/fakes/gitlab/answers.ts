/** GitLab's error answers, and the permission check every route uses. */
import { type FakeProject, Level, protectingRule } from "./model.js";
import type { Answer, RouteContext } from "./server.js";

export const forbidden: Answer = { status: 403, body: { message: "403 Forbidden" } };
export const notFound = (what: string): Answer => ({
  status: 404,
  body: { message: `404 ${what} Not Found` },
});
export const badRequest = (message: unknown): Answer => ({ status: 400, body: { message } });

/** 403 unless the user's project level (inherited included) is at least `level`. */
export function need(c: RouteContext, p: FakeProject, level: number): Answer | undefined {
  return (c.fake.projectLevel(p, c.user.id) ?? 0) >= level ? undefined : forbidden;
}

/**
 * Writes that run or join a pipeline on a protected ref (a status, a pipeline) need the right
 * to push or merge to it (ci/pipelines/_index.md "Pipeline security on protected branches"):
 * a Developer where only Maintainers may merge gets 403.
 */
export function protectedRefDenied(c: RouteContext, p: FakeProject, ref: string): Answer | undefined {
  const rule = protectingRule(p, ref);
  if (!rule) return undefined;
  const level = c.fake.projectLevel(p, c.user.id) ?? 0;
  return level >= (rule.merge_access_level ?? Level.maintainer)
    ? undefined
    : { status: 403, body: { message: "403 Forbidden" } };
}
