/**
 * Writing init's files without surprises: a missing file is created, an identical one is left
 * alone ("unchanged", so a second run changes nothing), and one that differs is kept unless the
 * user says so (--force, or yes at a prompt).
 */
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { isDeepStrictEqual } from "node:util";

export type FileAction = "create" | "unchanged" | "replace" | "keep";

export interface PlannedFile {
  /** Relative to the repository root, "/"-separated. */
  path: string;
  content: string;
  /** What is on disk now; undefined when there is no such file. */
  existing: string | undefined;
  /** Shell scripts are written executable. */
  executable?: boolean;
  /** What to say next to the path, e.g. "your key as dana". */
  note?: string;
  /** Whether existing text already says the same as `content` (default: byte-equal). */
  same?: (existing: string) => boolean;
  /** Whether existing text holds nothing worth keeping (only comments): filled in like a new file. */
  empty?: (existing: string) => boolean;
}

/** Text with nothing but `#` comments and blank lines, like the allowed_signers init writes without a key. */
export function onlyComments(text: string): boolean {
  return text.split("\n").every((l) => l.trim() === "" || l.trim().startsWith("#"));
}

/**
 * JSON that parses to the same value: a policy a formatter reflowed (Biome, Prettier) is not a
 * change, so init stays idempotent in a repository that formats its JSON.
 */
export function sameJson(content: string): (existing: string) => boolean {
  return (existing) => {
    try {
      return isDeepStrictEqual(JSON.parse(existing), JSON.parse(content));
    } catch {
      return false;
    }
  };
}

export async function readIfExists(root: string, path: string): Promise<string | undefined> {
  try {
    return await readFile(join(root, path), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

export async function planFile(
  root: string,
  path: string,
  content: string,
  extra: Pick<PlannedFile, "executable" | "note" | "same"> = {},
): Promise<PlannedFile> {
  return { path, content, existing: await readIfExists(root, path), ...extra };
}

/**
 * The action for one file. `replace` is asked only for a file that exists and differs; without
 * a way to ask (no terminal, --yes, CI) the answer is no.
 */
export async function decide(
  file: PlannedFile,
  force: boolean,
  ask: ((question: string) => Promise<boolean>) | undefined,
): Promise<FileAction> {
  if (file.existing === undefined) return "create";
  if (file.existing !== file.content && file.empty?.(file.existing)) return "create";
  if (file.existing === file.content || file.same?.(file.existing)) return "unchanged";
  if (force) return "replace";
  if (ask && (await ask(`${file.path} exists and differs from what init would write. Replace it?`)))
    return "replace";
  return "keep";
}

export async function apply(root: string, file: PlannedFile, action: FileAction): Promise<void> {
  if (action !== "create" && action !== "replace") return;
  const abs = join(root, file.path);
  await mkdir(dirname(abs), { recursive: true });
  await writeFile(abs, file.content);
  if (file.executable) await chmod(abs, 0o755);
}
