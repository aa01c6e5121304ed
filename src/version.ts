/**
 * optout's version. The build writes it in as a constant (OPTOUT_VERSION, esbuild's `define`):
 * bundled code lives in chunks whose place in dist/ says nothing about where package.json is.
 * Run from source (the tests), it is read from package.json next to src/.
 */
import { readFileSync } from "node:fs";

declare const OPTOUT_VERSION: string | undefined;

let read: string | undefined;

export function version(): string {
  if (typeof OPTOUT_VERSION === "string") return OPTOUT_VERSION;
  if (read === undefined) {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version?: unknown;
    };
    read = typeof pkg.version === "string" ? pkg.version : "unknown";
  }
  return read;
}

/**
 * Where optout's own repository lives, for `uses:` (the GitHub Action, action.yml at its root),
 * `include: component:` (the GitLab CI/CD components in its templates/) and the docs link in
 * `--help`.
 */
export const OPTOUT_REPOSITORY = { github: "optout-cli/optout", gitlab: "optout-cli/optout" };
