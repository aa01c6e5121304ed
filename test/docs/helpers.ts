/**
 * Running documentation as written: pull a fenced block out of a markdown file by its markers,
 * put the built CLI on PATH as `optout` (as an installed package would be), and run shell text.
 */
import { spawn } from "node:child_process";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cliPath, type RunResult, repoRoot } from "../helpers/world.js";

/**
 * The body of the fenced block between `<!-- <kind>:<name>:begin -->` and `<!-- <kind>:<name>:end -->`
 * (kind `test` for hand-written blocks, `generated` for scripts/gen-docs.mjs's).
 */
export async function docBlock(
  doc: string,
  name: string,
  kind: "test" | "generated" = "test",
): Promise<string> {
  const text = await readFile(join(repoRoot, doc), "utf8");
  const begin = text.indexOf(`<!-- ${kind}:${name}:begin -->`);
  const end = text.indexOf(`<!-- ${kind}:${name}:end -->`);
  if (begin < 0 || end < begin) throw new Error(`${doc}: no ${kind}:${name} markers`);
  const m = /```[a-z]*\n([\s\S]*?)\n```/.exec(text.slice(begin, end));
  if (!m) throw new Error(`${doc}: no fenced block between the ${kind}:${name} markers`);
  return `${m[1]}\n`;
}

/** A directory holding an `optout` that runs this build: put it first on PATH. */
export async function optoutOnPath(dir: string): Promise<string> {
  const bin = join(dir, "bin");
  await mkdir(bin, { recursive: true });
  const shim = join(bin, "optout");
  await writeFile(shim, `#!/bin/sh\nexec "${process.execPath}" "${cliPath}" "$@"\n`);
  await chmod(shim, 0o755);
  return bin;
}

export function runShell(
  shell: string,
  args: string[],
  o: { cwd: string; env: Record<string, string> },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(shell, args, { cwd: o.cwd, env: o.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
