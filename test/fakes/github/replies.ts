/** The fake's vocabulary: a call, a reply, GitHub's error bodies, and bodies built from the contract. */
import { contract } from "./openapi.js";
import type { FakeRepo, FakeUser, FakeWorld } from "./state.js";

export interface Call {
  world: FakeWorld;
  user: FakeUser;
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown> | undefined;
  accept: string;
}

export interface Reply {
  status: number;
  body?: unknown;
  /** A non-JSON body (the sha media type). */
  text?: { contentType: string; data: string };
  headers?: Record<string, string>;
}

const docs = "https://docs.github.com/rest";
export const message = (status: number, text: string): Reply => ({
  status,
  body: { message: text, documentation_url: docs, status: String(status) },
});
export const notFound = () => message(404, "Not Found");
export const ex = (ref: string, over: Record<string, unknown>) =>
  contract().example(`#/components/schemas/${ref}`, over);
const roleRank = ["read", "triage", "write", "maintain", "admin"];

export function userBody(login: string, id = 1) {
  return ex("simple-user", {
    login,
    id,
    type: "User",
    html_url: `https://github.com/${encodeURIComponent(login)}`,
  });
}

/** A role is "name" or, for a custom role, "name:base" (base = the permission GitHub reports). */
export function role(repo: FakeRepo, login: string): { name: string; permission: string } | undefined {
  const r = repo.roles.get(login.toLowerCase());
  if (!r) return undefined;
  const [name, base] = r.split(":") as [string, string | undefined];
  const level = base ?? name;
  const permission = level === "maintain" ? "write" : level === "triage" ? "read" : level;
  return { name, permission };
}

export function canWrite(repo: FakeRepo, user: FakeUser): boolean {
  return roleRank.indexOf(role(repo, user.login)?.permission ?? "none") >= roleRank.indexOf("write");
}

/** Whether a token sees the repository: a role on it, or an App installed on it. */
export function canSee(repo: FakeRepo, user: FakeUser): boolean {
  return user.installation
    ? user.installation.repos.has(repo.fullName.toLowerCase())
    : !!role(repo, user.login);
}

/**
 * GitHub's 403 for a write the token may not make. An App installation token needs the
 * permission (`statuses`, `actions_variables`, `actions`: write); a user token, write on the
 * repository. GITHUB_TOKEN is an installation token too, and has no `actions_variables`.
 */
export function denyWrite(repo: FakeRepo, user: FakeUser, permission: string): Reply | undefined {
  if (user.installation) {
    return user.installation.permissions[permission] === "write"
      ? undefined
      : message(403, "Resource not accessible by integration");
  }
  return canWrite(repo, user) ? undefined : message(403, "Resource not accessible by personal access token");
}

/** Private repositories: someone without a role gets 404, as on GitHub. */
export type Handler = (c: Call, repo: FakeRepo) => Reply;
