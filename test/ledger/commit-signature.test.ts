/**
 * audit.signCommits writes the signature header git itself writes: `gpgsig` in a SHA-1
 * repository, `gpgsig-sha256` in a SHA-256 one. Stock `git verify-commit` is the judge.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSigner } from "../../src/ledger/keys.js";
import { signSshsig } from "../../src/ledger/sshsig.js";
import { commitBody, withSignature } from "../../src/ledger/tree.js";
import { allowedSignersLine, makeKey, type TestKey } from "../helpers/keys.js";

const exec = promisify(execFile);

function run(
  cwd: string,
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile("git", args, { cwd }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    // git may exit without reading stdin (verify-commit does not read it): not an error here.
    child.stdin!.on("error", () => {});
    child.stdin!.end(input ?? "");
  });
}

describe("signed ledger commits", () => {
  let dir: string;
  let key: TestKey;
  let signers: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "optout-commitsig-"));
    key = await makeKey(dir, "alice");
    signers = join(dir, "allowed_signers");
    await writeFile(signers, `${allowedSignersLine("alice", key.publicLine)}\n`);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  for (const format of ["sha1", "sha256"] as const) {
    it(`git verify-commit accepts a signed commit in a ${format} repository`, async () => {
      const repo = join(dir, format);
      await exec("git", ["init", "-q", `--object-format=${format}`, repo]);
      const tree = (await run(repo, ["hash-object", "-t", "tree", "-w", "--stdin"])).stdout.trim();
      const body = commitBody({
        tree,
        authorName: "alice",
        authorEmail: "alice@optout.invalid",
        time: new Date("2026-11-26T10:00:00Z"),
        message: "optout: skip lint@main 01JD0000000000000000000000\n\nOptout-Seq: 1\n",
      });
      const signer = await loadSigner(key.privatePath);
      const signed = withSignature(body, await signSshsig(body, signer, "git"), format);
      expect(signed.toString()).toMatch(
        format === "sha256" ? /\ngpgsig-sha256 -----BEGIN/ : /\ngpgsig -----BEGIN/,
      );
      const oid = (
        await run(repo, ["hash-object", "-t", "commit", "-w", "--stdin"], signed.toString())
      ).stdout.trim();
      const ok = await run(repo, ["-c", `gpg.ssh.allowedSignersFile=${signers}`, "verify-commit", oid]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stderr).toMatch(/Good "git" signature for alice/);
      // The other header name is one git does not read in this format: no signature at all.
      const other = withSignature(
        body,
        await signSshsig(body, signer, "git"),
        format === "sha1" ? "sha256" : "sha1",
      );
      const wrong = (
        await run(repo, ["hash-object", "-t", "commit", "-w", "--stdin"], other.toString())
      ).stdout.trim();
      expect(
        (await run(repo, ["-c", `gpg.ssh.allowedSignersFile=${signers}`, "verify-commit", wrong])).code,
      ).not.toBe(0);
    });
  }
});
