import { execFile } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { UsageError } from "../../src/errors.js";
import { fingerprint, loadSigner, parsePublicKeyLine } from "../../src/ledger/keys.js";
import { makeKey, type TestKey } from "../helpers/keys.js";

const run = promisify(execFile);
let dir: string;
let plain: TestKey;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "optout-keys-"));
  plain = await makeKey(dir, "plain");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function usageError(p: Promise<unknown>): Promise<UsageError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(UsageError);
  const err = e as UsageError;
  expect(err.exitCode).toBe(2);
  return err;
}

describe("loadSigner: unencrypted ed25519 signs in-process", () => {
  test("public key line and fingerprint match ssh-keygen's", async () => {
    const signer = await loadSigner(plain.privatePath, {});
    expect(signer.keyType).toBe("ssh-ed25519");
    expect(`${signer.publicKeyLine} plain`).toBe(plain.publicLine);
    const { stdout } = await run("ssh-keygen", ["-l", "-E", "sha256", "-f", plain.publicPath]);
    expect(stdout.split(" ")[1]).toBe(signer.fingerprint);
    expect(fingerprint(signer.publicKeyBlob)).toBe(signer.fingerprint);
  });

  test("sign() returns a 64-byte ed25519 signature, deterministic per message", async () => {
    const signer = await loadSigner(plain.privatePath, {});
    const a = await signer.sign(Buffer.from("m1"));
    expect(a).toHaveLength(64);
    expect((await signer.sign(Buffer.from("m1"))).equals(a)).toBe(true);
    expect((await signer.sign(Buffer.from("m2"))).equals(a)).toBe(false);
  });

  test("needs no agent: SSH_AUTH_SOCK pointing nowhere is ignored", async () => {
    const signer = await loadSigner(plain.privatePath, { SSH_AUTH_SOCK: join(dir, "no-such.sock") });
    expect(await signer.sign(Buffer.from("x"))).toHaveLength(64);
  });

  test("a key file with CRLF line endings still loads", async () => {
    const crlf = join(dir, "crlf");
    await writeFile(crlf, (await readFile(plain.privatePath, "utf8")).replace(/\n/g, "\r\n"), {
      mode: 0o600,
    });
    expect((await loadSigner(crlf, {})).fingerprint).toBe(
      (await loadSigner(plain.privatePath, {})).fingerprint,
    );
  });

  test("a corrupted private section (seed ≠ public key) is refused, without key material in the message", async () => {
    const text = await readFile(plain.privatePath, "utf8");
    const body = Buffer.from(text.split("\n").slice(1, -2).join(""), "base64");
    // The 64-byte secret (seed ‖ pk) sits near the end, before the comment and padding; flip a seed byte.
    const pkBytes = parsePublicKeyLine(plain.publicLine).blob.subarray(-32);
    const secretAt = body.lastIndexOf(pkBytes) - 32;
    expect(secretAt).toBeGreaterThan(100);
    body.writeUInt8(body.readUInt8(secretAt) ^ 1, secretAt);
    const bad = join(dir, "corrupt");
    const b64 = body
      .toString("base64")
      .match(/.{1,70}/g)!
      .join("\n");
    await writeFile(bad, `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`);
    const err = await usageError(loadSigner(bad, {}));
    expect(err.message).toContain(bad);
    expect(err.message).toMatch(/seed does not match/);
    expect(err.message).not.toContain(
      body
        .subarray(secretAt, secretAt + 32)
        .toString("base64")
        .slice(0, 8),
    );
  });
});

describe("loadSigner refusals (UsageError, exit 2)", () => {
  let encrypted: TestKey;
  let rsa: TestKey;
  let ecdsa: TestKey;
  beforeAll(async () => {
    [encrypted, rsa, ecdsa] = await Promise.all([
      makeKey(dir, "locked", { passphrase: "correct horse" }),
      makeKey(dir, "rsa", { type: "rsa" }),
      makeKey(dir, "ecdsa", { type: "ecdsa" }),
    ]);
  });

  test("encrypted key without SSH_AUTH_SOCK: says an agent is needed, hints ssh-add <path>", async () => {
    const err = await usageError(loadSigner(encrypted.privatePath, {}));
    expect(err.message).toContain(encrypted.privatePath);
    expect(err.message).toMatch(/passphrase-protected.*ssh-agent.*SSH_AUTH_SOCK is not set/);
    expect(err.hint).toContain(`ssh-add ${encrypted.privatePath}`);
  });

  test("encrypted key with a dead agent socket: cannot reach ssh-agent", async () => {
    const err = await usageError(
      loadSigner(encrypted.privatePath, { SSH_AUTH_SOCK: join(dir, "gone.sock") }),
    );
    expect(err.message).toMatch(/cannot reach ssh-agent at .*gone\.sock: ENOENT/);
    expect(err.hint).toContain(`ssh-add ${encrypted.privatePath}`);
  });

  test("a .pub file without an agent: same refusal, hint names the private key", async () => {
    const err = await usageError(loadSigner(plain.publicPath, {}));
    expect(err.message).toMatch(/is a public key.*SSH_AUTH_SOCK is not set/);
    expect(err.hint).toContain(`ssh-add ${plain.privatePath}`);
    expect(err.hint).not.toContain(".pub");
  });

  test.each([
    ["rsa", "ssh-rsa"],
    ["ecdsa", "ecdsa-sha2-nistp256"],
  ])("%s private key → names the type, hints ssh-keygen -t ed25519", async (name, type) => {
    const key = name === "rsa" ? rsa : ecdsa;
    const err = await usageError(loadSigner(key.privatePath, {}));
    expect(err.message).toBe(
      `signing key ${key.privatePath} is ${type}; optout signs with ed25519 keys only`,
    );
    expect(err.hint).toContain("ssh-keygen -t ed25519");
    // And its public half too.
    expect((await usageError(loadSigner(key.publicPath, {}))).message).toContain(type);
  });

  test("PEM and PKCS#8 files are named as such", async () => {
    const pem = join(dir, "pem");
    await copyFile(rsa.privatePath, pem);
    await run("ssh-keygen", ["-q", "-p", "-m", "PEM", "-N", "", "-P", "", "-f", pem]);
    expect((await usageError(loadSigner(pem, {}))).message).toContain('PEM "RSA PRIVATE KEY"');
    const pkcs8 = join(dir, "pkcs8");
    await copyFile(ecdsa.privatePath, pkcs8);
    await run("ssh-keygen", ["-q", "-p", "-m", "PKCS8", "-N", "", "-P", "", "-f", pkcs8]);
    expect((await usageError(loadSigner(pkcs8, {}))).message).toContain("a PKCS#8 private key");
  });

  test("garbage, an empty file and a missing file", async () => {
    const junk = join(dir, "junk");
    await writeFile(junk, "hello world, not a key\n");
    expect((await usageError(loadSigner(junk, {}))).message).toContain(
      "is not an SSH key (unrecognized content)",
    );
    const empty = join(dir, "empty");
    await writeFile(empty, "");
    expect((await usageError(loadSigner(empty, {}))).message).toContain(empty);
    expect((await usageError(loadSigner(join(dir, "missing"), {}))).message).toMatch(
      /no signing key at .*missing/,
    );
  });

  test("a truncated OpenSSH key is invalid, not a crash", async () => {
    const text = await readFile(plain.privatePath, "utf8");
    const lines = text.trim().split("\n");
    const cut = join(dir, "cut");
    await writeFile(cut, [lines[0], lines[1], lines[2], lines.at(-1)].join("\n"));
    expect((await usageError(loadSigner(cut, {}))).message).toMatch(
      /not a valid OpenSSH private key: truncated/,
    );
  });
});

describe("parsePublicKeyLine", () => {
  test("reads type, blob and comment; the blob repeats the type", () => {
    const p = parsePublicKeyLine(`${plain.publicLine}  extra words\n`);
    expect(p.keyType).toBe("ssh-ed25519");
    expect(p.blob).toHaveLength(4 + 11 + 4 + 32);
    expect(p.comment).toBe("plain extra words");
    expect(parsePublicKeyLine(plain.publicLine.split(" ").slice(0, 2).join(" ")).comment).toBeUndefined();
  });

  test("refuses a type that disagrees with the blob, bad base64, and missing fields", () => {
    const b64 = plain.publicLine.split(" ")[1]!;
    expect(() => parsePublicKeyLine(`ssh-rsa ${b64}`)).toThrow(/ssh-rsa line holds a ssh-ed25519 key/);
    expect(() => parsePublicKeyLine(`ssh-ed25519 ${b64.slice(1)}`)).toThrow(UsageError);
    expect(() => parsePublicKeyLine("ssh-ed25519")).toThrow(UsageError);
    expect(() => parsePublicKeyLine("ssh-ed25519 AAAA")).toThrow(/truncated/);
  });
});
