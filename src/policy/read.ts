/**
 * Policy file → raw value. JSON (the common case, and what `optout init` writes) is read with
 * node:fs and JSON.parse: importing cosmiconfig costs ~30 ms of startup, and `optout guard` runs
 * in every pipeline job. YAML and JavaScript files go through cosmiconfig's loaders.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { ConfigError } from "../errors.js";
import { lineColumn, locateJsonError } from "./json-syntax.js";
import { type JsonPath, Problems } from "./problems.js";

/** Where optout looks for the policy file, in order (docs/policy.md, Where optout finds it). */
export const SEARCH_PLACES = [
  "package.json",
  ".optoutrc",
  ".optoutrc.json",
  ".optoutrc.yaml",
  ".optoutrc.yml",
  "optout.config.js",
  "optout.config.mjs",
] as const;

export interface RawPolicy {
  raw: unknown;
  /** JSON path of the policy inside the file: `["optout"]` for package.json. */
  pathPrefix: JsonPath;
}

type Format = "json" | "yaml" | "js";

function fail(display: string, message: string, hint?: string): never {
  const problems = new Problems();
  problems.add([], message, hint);
  throw problems.toError(display);
}

/** By name; `.optoutrc` and unknown names are JSON when they look like it, else YAML (as cosmiconfig). */
function formatOf(file: string, text: string): Format {
  const base = path.basename(file);
  const ext = path.extname(base).toLowerCase();
  if (ext === ".json") return "json";
  if (ext === ".yaml" || ext === ".yml") return "yaml";
  if (ext === ".js" || ext === ".mjs" || ext === ".cjs") return "js";
  return /^\s*[{[]/.test(text) ? "json" : "yaml";
}

function parseJson(text: string, display: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const found = locateJsonError(text) ?? { offset: 0, reason: "not valid JSON" };
    const { line, column } = lineColumn(text, found.offset);
    return fail(display, `line ${line}, column ${column}: invalid JSON: ${found.reason}`);
  }
}

async function parseYaml(file: string, text: string, display: string): Promise<unknown> {
  const { defaultLoaders } = await import("cosmiconfig");
  try {
    return await defaultLoaders[".yaml"](file, text);
  } catch (e) {
    // js-yaml's message repeats a snippet of the file; the reason and position are enough.
    const err = e as { mark?: { line: number; column: number }; reason?: string; message?: string };
    if (err.mark && err.reason) {
      return fail(
        display,
        `line ${err.mark.line + 1}, column ${err.mark.column + 1}: invalid YAML: ${err.reason}`,
      );
    }
    return fail(display, `invalid YAML: ${String(err.message).split("\n")[0]}`);
  }
}

async function loadJs(file: string, display: string): Promise<unknown> {
  const { cosmiconfig } = await import("cosmiconfig");
  const explorer = cosmiconfig("optout", { searchPlaces: [...SEARCH_PLACES], cache: false });
  let config: unknown;
  try {
    config = (await explorer.load(file))?.config;
  } catch (e) {
    const first = String((e as Error).message).split("\n")[0];
    return fail(display, `cannot load: ${first}`, `run \`node ${display}\` to see the JavaScript error`);
  }
  if (config === undefined) fail(display, "exports no policy", "export default { version: 1, … }");
  return config;
}

/**
 * Parses policy text (a file's content, or the default branch's copy for `--pinned`). `file`
 * decides the format; JavaScript can only be loaded from disk.
 */
export async function parsePolicyText(text: string, file: string, display: string): Promise<RawPolicy> {
  const body = text.replace(/^\uFEFF/, "");
  const isPackageJson = path.basename(file) === "package.json";
  if (!isPackageJson && body.trim() === "") {
    fail(display, "the file is empty", 'start from { "version": 1 } (`optout init` writes a complete one)');
  }
  const format = formatOf(file, body);
  if (format === "js") {
    return { raw: await loadJs(file, display), pathPrefix: [] };
  }
  const raw = format === "json" ? parseJson(body, display) : await parseYaml(file, body, display);
  if (!isPackageJson) return { raw, pathPrefix: [] };
  const policy =
    raw !== null && typeof raw === "object" ? (raw as Record<string, unknown>).optout : undefined;
  if (policy === undefined)
    fail(display, 'has no "optout" key', 'put the policy under "optout", or in .optoutrc.json');
  return { raw: policy, pathPrefix: ["optout"] };
}

export async function readPolicyFile(file: string, display: string): Promise<RawPolicy> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const what =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : `cannot read (${code})`;
    throw new ConfigError(`${display}: ${what}`, { hint: "check the --config path" });
  }
  return parsePolicyText(text, file, display);
}
