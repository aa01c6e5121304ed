/**
 * The forges' own command-line tools (`gh`, `glab`) as token sources: found on PATH, run with an
 * argument array (never a shell), bounded in time, their output trimmed. Nothing from the
 * environment is interpreted.
 */
import { execFile } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { delimiter, join } from "node:path";

export async function findOnPath(
  name: string,
  env: Record<string, string | undefined>,
): Promise<string | undefined> {
  const exts = process.platform === "win32" ? [".exe", ".cmd", ""] : [""];
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = join(dir, name + ext);
      try {
        await access(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here; keep looking
      }
    }
  }
  return undefined;
}

/** The tool's trimmed stdout, or undefined when it failed or printed nothing. */
export function toolOutput(
  file: string,
  args: string[],
  env: Record<string, string | undefined>,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 10_000, windowsHide: true }, (error, stdout) => {
      const out = String(stdout ?? "").trim();
      resolve(error || !out ? undefined : out);
    });
  });
}
