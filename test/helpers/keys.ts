/**
 * Real OpenSSH for tests: keys from `ssh-keygen`, a real `ssh-agent`, `ssh-add` with a passphrase
 * through SSH_ASKPASS. Every child runs from an argument array, never a shell.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TestKey {
  privatePath: string;
  publicPath: string;
  /** "ssh-ed25519 AAAA… comment", the .pub file's line. */
  publicLine: string;
}

export async function makeKey(
  dir: string,
  name: string,
  opts: { passphrase?: string; type?: "ed25519" | "rsa" | "ecdsa" } = {},
): Promise<TestKey> {
  const privatePath = join(dir, name);
  const type = opts.type ?? "ed25519";
  const bits = type === "rsa" ? ["-b", "2048"] : [];
  await run("ssh-keygen", [
    "-q",
    "-t",
    type,
    ...bits,
    "-N",
    opts.passphrase ?? "",
    "-C",
    name,
    "-f",
    privatePath,
  ]);
  const publicPath = `${privatePath}.pub`;
  return { privatePath, publicPath, publicLine: (await readFile(publicPath, "utf8")).trim() };
}

/** An allowed_signers line; `options` go between the principal and the key, e.g. `namespaces="optout-audit"`. */
export function allowedSignersLine(principal: string, publicLine: string, options?: string): string {
  const [keyType, b64] = publicLine.trim().split(/\s+/);
  return [principal, options, keyType, b64].filter(Boolean).join(" ");
}

export interface TestAgent {
  sock: string;
  pid: number;
  /** ssh-add; a passphrase is given through SSH_ASKPASS, as a desktop would. */
  add(path: string, passphrase?: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startAgent(): Promise<TestAgent> {
  // Unix socket paths are limited to ~104 bytes: keep it short, under the system temp dir.
  const dir = await mkdtemp(join(tmpdir(), "optout-agent-"));
  const sock = join(dir, "agent.sock");
  const child: ChildProcess = spawn("ssh-agent", ["-D", "-a", sock], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  for (let i = 0; !existsSync(sock); i++) {
    if (child.exitCode !== null || i > 200) {
      child.kill();
      throw new Error(`ssh-agent did not start: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    sock,
    pid: child.pid!,
    async add(path, passphrase) {
      const env: NodeJS.ProcessEnv = { ...process.env, SSH_AUTH_SOCK: sock };
      if (passphrase !== undefined) {
        const askpass = join(dir, "askpass.sh");
        await writeFile(askpass, '#!/bin/sh\nprintf "%s\\n" "$OPTOUT_TEST_PASSPHRASE"\n');
        await chmod(askpass, 0o700);
        Object.assign(env, {
          SSH_ASKPASS: askpass,
          SSH_ASKPASS_REQUIRE: "force",
          DISPLAY: env.DISPLAY ?? ":0",
          OPTOUT_TEST_PASSPHRASE: passphrase,
        });
      }
      await run("ssh-add", ["-q", path], { env });
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `ssh-keygen -Y verify -f allowed_signers -I principal -n namespace -s sig < message`, the
 * auditor's check from the ledger spec. `verifyTime` is YYYYMMDD[HHMM[SS]][Z].
 */
export async function sshKeygenVerify(args: {
  allowedSigners: string;
  principal: string;
  namespace: string;
  sigPath: string;
  messagePath: string;
  verifyTime?: string;
}): Promise<ToolResult> {
  const argv = ["-Y", "verify", "-f", args.allowedSigners, "-I", args.principal, "-n", args.namespace];
  argv.push("-s", args.sigPath);
  if (args.verifyTime) argv.push("-O", `verify-time=${args.verifyTime}`);
  const input = await open(args.messagePath, "r");
  try {
    const child = spawn("ssh-keygen", argv, { stdio: [input.fd, "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (c) => resolve(c ?? -1));
    });
    return { code, stdout, stderr };
  } finally {
    await input.close();
  }
}

/** `ssh-keygen -Y sign -f key -n namespace file`: writes and returns `file.sig`. */
export async function sshKeygenSign(keyPath: string, namespace: string, file: string): Promise<string> {
  await run("ssh-keygen", ["-q", "-Y", "sign", "-f", keyPath, "-n", namespace, file]);
  return readFile(`${file}.sig`, "utf8");
}
