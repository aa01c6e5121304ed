/**
 * Finding and loading the policy file. Discovery walks up from the cwd like cosmiconfig, but
 * stops at the repository root (or the home directory): the policy belongs to the repository,
 * and a stray file in a parent directory must not decide who may override its pipeline.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Policy, ProviderName } from "../core/policy.js";
import { ConfigError } from "../errors.js";
import { parsePolicyText, readPolicyFile, SEARCH_PLACES } from "./read.js";

export { SEARCH_PLACES };

export interface LoadPolicyOptions {
  /** `--config`: exactly this file, relative to `cwd`. */
  configPath?: string;
  cwd: string;
  /** `--provider` and `--repo` win over the file's values. */
  provider?: ProviderName;
  repo?: string;
}

function isFile(file: string): boolean {
  return statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
}

/** package.json counts only with an `optout` key (as cosmiconfig's packageProp). */
function hasOptoutKey(file: string): boolean {
  const text = readFileSync(file, "utf8");
  try {
    const pkg: unknown = JSON.parse(text);
    return pkg !== null && typeof pkg === "object" && "optout" in pkg;
  } catch {
    // Broken JSON that mentions optout: load it, so the syntax error is reported, not ignored.
    return text.includes('"optout"');
  }
}

/** The policy file for `cwd`: the first of SEARCH_PLACES in cwd or a parent, up to the repo root. */
export function findPolicyFile(cwd: string): string | undefined {
  const home = os.homedir();
  let dir = path.resolve(cwd);
  for (;;) {
    for (const place of SEARCH_PLACES) {
      const candidate = path.join(dir, place);
      if (isFile(candidate) && (place !== "package.json" || hasOptoutKey(candidate))) return candidate;
    }
    const parent = path.dirname(dir);
    if (existsSync(path.join(dir, ".git")) || dir === home || parent === dir) return undefined;
    dir = parent;
  }
}

/** The path as the user would type it: relative when inside `cwd`, absolute otherwise. */
export function displayPath(file: string, cwd: string): string {
  const rel = path.relative(path.resolve(cwd), file);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
}

export async function loadPolicy(opts: LoadPolicyOptions): Promise<Policy> {
  const cwd = path.resolve(opts.cwd);
  const file = opts.configPath ? path.resolve(cwd, opts.configPath) : findPolicyFile(cwd);
  if (!file) {
    throw new ConfigError(`no policy file found in ${cwd} or its parents up to the repository root`, {
      hint: `optout looks for ${SEARCH_PLACES.slice(1).join(", ")} and package.json#optout; run \`optout init\`, or pass --config <path>`,
    });
  }
  const display = displayPath(file, cwd);
  const { raw, pathPrefix } = await readPolicyFile(file, display);
  return normalize(raw, file, display, pathPrefix, opts);
}

/**
 * A policy from text, e.g. the default branch's copy for `policy check --pinned`. `file` is the
 * path it has in the repository; it decides the format and names the file in messages.
 */
export async function loadPolicyText(
  text: string,
  file: string,
  opts: Omit<LoadPolicyOptions, "configPath">,
): Promise<Policy> {
  const abs = path.resolve(opts.cwd, file);
  const display = displayPath(abs, opts.cwd);
  const { raw, pathPrefix } = await parsePolicyText(text, abs, display);
  return normalize(raw, abs, display, pathPrefix, opts);
}

async function normalize(
  raw: unknown,
  file: string,
  display: string,
  pathPrefix: readonly (string | number)[],
  opts: Omit<LoadPolicyOptions, "configPath">,
): Promise<Policy> {
  // zod is imported only here, so commands that merely look for the file stay light.
  const { normalizePolicy } = await import("./normalize.js");
  return normalizePolicy(raw, {
    file,
    display,
    pathPrefix,
    ...(opts.provider ? { provider: opts.provider } : {}),
    ...(opts.repo ? { repo: opts.repo } : {}),
  });
}
