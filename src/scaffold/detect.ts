/**
 * What `optout init` can tell about the repository before asking anything: the provider and repo
 * from the `origin` remote (or the CI it runs in), and the default branch records are trusted from.
 */
import type { ProviderName } from "../core/policy.js";
import { defaultBranch, remoteUrl, repoFromUrl } from "../git/repo.js";

/** The policy schema's `repo` pattern: a bare name ("remote" from a local path) is left out. */
const REPO_PATTERN = /^[\w.-]+(?:\/[\w.-]+)+$/;

export interface Detected {
  provider: ProviderName;
  /** Why this provider, for the summary: "--provider", "origin is on github.com", … */
  providerFrom: string;
  /** owner/name or group/sub/project, when the remote URL names one. */
  repo?: string;
  /**
   * A name for plain git when the URL names no owner/name (a local path, a bare name): the last
   * two parts of the remote's path, else of the clone's. Any stable name will do, as long as the
   * policy states it: records carry it and readers compare with it.
   */
  localRepo: string;
  /** A self-hosted GitLab's base URL, so the policy can name it. */
  gitlabUrl?: string;
  /** The remote's default branch, when the remote says (an empty bare repository does not). */
  defaultBranch?: string;
  /** Where pipelines run, by the remote's host or the CI variables: GitHub Actions or GitLab CI. */
  hostedOn?: Forge;
}

/** The host of an scp-like (`git@host:path`) or URL-style remote; undefined for a local path. */
export function remoteHost(url: string): string | undefined {
  const scp = /^(?:[^/@]+@)?([^/:]+):(?!\/\/)/.exec(url);
  if (scp && !/^[a-z]:$/i.test(`${scp[1]}:`)) return scp[1]!.toLowerCase();
  try {
    const u = new URL(url);
    return u.protocol === "file:" ? undefined : u.hostname.toLowerCase() || undefined;
  } catch {
    return undefined;
  }
}

/** A forge: where pipelines run as GitHub Actions or GitLab CI. */
export type Forge = Exclude<ProviderName, "git">;

export function providerFromHost(host: string | undefined): Forge | undefined {
  if (!host) return undefined;
  if (host === "github.com" || host.endsWith(".github.com")) return "github";
  if (host.split(".").some((label) => label === "gitlab")) return "gitlab";
  return undefined;
}

export function providerFromEnv(env: Record<string, string | undefined>): Forge | undefined {
  if (env.GITHUB_ACTIONS === "true") return "github";
  if (env.GITLAB_CI === "true") return "gitlab";
  return undefined;
}

export async function detect(
  root: string,
  env: Record<string, string | undefined>,
  flag: ProviderName | undefined,
): Promise<Detected> {
  const url = await remoteUrl(root, "origin");
  const host = url ? remoteHost(url) : undefined;
  const byHost = providerFromHost(host);
  const byEnv = providerFromEnv(env);
  const provider = flag ?? byHost ?? byEnv ?? "git";
  const providerFrom = flag
    ? "--provider"
    : byHost
      ? `origin is on ${host}`
      : byEnv
        ? `running in ${byEnv === "github" ? "GitHub Actions" : "GitLab CI"}`
        : url
          ? "origin is not on GitHub or GitLab"
          : "no origin remote";
  const repo = url ? repoFromUrl(url) : undefined;
  // Offline, init still writes the policy; the summary then names the current branch.
  const branch = url ? await defaultBranch(root, "origin").catch(() => undefined) : undefined;
  return {
    provider,
    providerFrom,
    ...(repo && REPO_PATTERN.test(repo) ? { repo } : {}),
    localRepo: localName(url ?? root),
    ...(provider === "gitlab" && host && host !== "gitlab.com" && byHost === "gitlab"
      ? { gitlabUrl: `https://${host}` }
      : {}),
    ...(branch ? { defaultBranch: branch } : {}),
    ...((byHost ?? byEnv) ? { hostedOn: byHost ?? byEnv } : {}),
  };
}

/** "srv/shop" from /srv/shop.git or file:///srv/shop.git; "local/shop" from a one-part path. */
function localName(pathOrUrl: string): string {
  let path = pathOrUrl;
  try {
    path = new URL(pathOrUrl).pathname;
  } catch {
    // a plain path
  }
  const parts = path
    .replace(/\.git\/?$/, "")
    .split(/[/\\]/)
    .map((p) => p.replace(/[^\w.-]/g, "-"))
    .filter((p) => p && p !== "." && p !== "..");
  const [owner, name] = parts.length >= 2 ? parts.slice(-2) : ["local", parts[0] ?? "repository"];
  return `${owner}/${name}`;
}
