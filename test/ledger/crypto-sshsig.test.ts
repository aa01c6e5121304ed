import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { VerificationError } from "../../src/errors.js";
import { loadSigner, parsePublicKeyLine, type Signer } from "../../src/ledger/keys.js";
import { parseSshsig, signSshsig, verifySshsig, verifySshsigAsync } from "../../src/ledger/sshsig.js";
import {
  allowedSignersLine,
  makeKey,
  sshKeygenSign,
  sshKeygenVerify,
  type TestKey,
} from "../helpers/keys.js";

const ns = "optout-audit";
let dir: string;
let alice: TestKey;
let bob: TestKey;
let signer: Signer;
let allowedSigners: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "optout-sshsig-"));
  [alice, bob] = await Promise.all([makeKey(dir, "alice"), makeKey(dir, "bob")]);
  signer = await loadSigner(alice.privatePath, {});
  allowedSigners = join(dir, "allowed_signers");
  await writeFile(
    allowedSigners,
    `${allowedSignersLine("alice@example.com", alice.publicLine)}\n${allowedSignersLine("bob@example.com", bob.publicLine)}\n`,
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function writeSigned(name: string, message: Buffer, armored: string) {
  const messagePath = join(dir, name);
  await writeFile(messagePath, message);
  await writeFile(`${messagePath}.sig`, armored);
  return { messagePath, sigPath: `${messagePath}.sig` };
}

const record = Buffer.from(
  '{"id":"01ARYZ6S41TSV4RRFFQ69G5FAV","reason":"prod down — ünïcode","seq":1,"v":1}',
);

describe("signSshsig → ssh-keygen -Y verify", () => {
  test("ssh-keygen accepts our signature for the principal, namespace and message", async () => {
    const files = await writeSigned("r1.json", record, await signSshsig(record, signer, ns));
    const r = await sshKeygenVerify({
      allowedSigners,
      principal: "alice@example.com",
      namespace: ns,
      ...files,
    });
    expect(r.stderr + r.stdout).toContain('Good "optout-audit" signature for alice@example.com');
    expect(r.code).toBe(0);
  });

  test("ssh-keygen rejects it for another principal, another namespace, or a changed message", async () => {
    const files = await writeSigned("r2.json", record, await signSshsig(record, signer, ns));
    const base = { allowedSigners, principal: "alice@example.com", namespace: ns, ...files };
    expect((await sshKeygenVerify({ ...base, principal: "bob@example.com" })).code).not.toBe(0);
    expect((await sshKeygenVerify({ ...base, namespace: "file" })).code).not.toBe(0);
    await writeFile(files.messagePath, Buffer.concat([record, Buffer.from(" ")]));
    expect((await sshKeygenVerify(base)).code).not.toBe(0);
  });

  test("byte-identical to ssh-keygen -Y sign (ed25519 is deterministic): armor, wrapping, newline", async () => {
    const messagePath = join(dir, "same.json");
    await writeFile(messagePath, record);
    const theirs = await sshKeygenSign(alice.privatePath, ns, messagePath);
    expect(await signSshsig(record, signer, ns)).toBe(theirs);
  });

  test("an empty message and a 1 MiB one", async () => {
    for (const [name, message] of [
      ["empty", Buffer.alloc(0)],
      ["big", Buffer.alloc(1 << 20, 0xab)],
    ] as const) {
      const files = await writeSigned(name, message, await signSshsig(message, signer, ns));
      const r = await sshKeygenVerify({
        allowedSigners,
        principal: "alice@example.com",
        namespace: ns,
        ...files,
      });
      expect(r.code, r.stderr).toBe(0);
    }
  });
});

describe("ssh-keygen -Y sign → verifySshsig", () => {
  let theirs: string;
  beforeAll(async () => {
    const messagePath = join(dir, "theirs.json");
    await writeFile(messagePath, record);
    theirs = await sshKeygenSign(bob.privatePath, ns, messagePath);
  });

  test("accepts it and names bob's key", () => {
    const v = verifySshsig(record, theirs, ns);
    expect(v).toEqual({ ok: true, publicKeyBlob: parsePublicKeyLine(bob.publicLine).blob });
  });

  test("parseSshsig reads the fields ssh-keygen wrote", () => {
    const p = parseSshsig(theirs);
    expect(p.namespace).toBe(ns);
    expect(p.hashAlgorithm).toBe("sha512");
    expect(p.keyType).toBe("ssh-ed25519");
    expect(p.signature).toHaveLength(64);
    expect(p.publicKeyBlob.equals(parsePublicKeyLine(bob.publicLine).blob)).toBe(true);
  });

  test("wrong namespace, tampered message → rejected with a reason", () => {
    expect(verifySshsig(record, theirs, "file")).toEqual({
      ok: false,
      reason: 'signature namespace is "optout-audit", expected "file"',
    });
    const tampered = flip(Buffer.from(record), 10);
    expect(verifySshsig(tampered, theirs, ns)).toEqual({
      ok: false,
      reason: "signature does not match the message",
    });
  });

  test("verifySshsigAsync gives the same verdicts", async () => {
    expect(await verifySshsigAsync(record, theirs, ns)).toEqual(verifySshsig(record, theirs, ns));
    expect(await verifySshsigAsync(record, theirs, "file")).toEqual(verifySshsig(record, theirs, "file"));
    const tampered = flip(Buffer.from(record), 3);
    expect(await verifySshsigAsync(tampered, theirs, ns)).toEqual({
      ok: false,
      reason: "signature does not match the message",
    });
    expect(await verifySshsigAsync(record, "junk", ns)).toMatchObject({ ok: false });
  });

  test("tampered signature bytes → rejected", () => {
    const blob = Buffer.from(theirs.split("\n").slice(1, -2).join(""), "base64");
    flip(blob, blob.length - 5); // inside the raw ed25519 signature, the blob's last field
    expect(verifySshsig(record, rearmor(blob), ns)).toEqual({
      ok: false,
      reason: "signature does not match the message",
    });
  });
});

describe("verifySshsig refusals", () => {
  test("a valid signature by another key verifies, but names that key (trust is allowed_signers' job)", async () => {
    const bobSigner = await loadSigner(bob.privatePath, {});
    const v = verifySshsig(record, await signSshsig(record, bobSigner, ns), ns);
    expect(v.ok && v.publicKeyBlob.equals(bobSigner.publicKeyBlob)).toBe(true);
    expect(v.ok && v.publicKeyBlob.equals(signer.publicKeyBlob)).toBe(false);
  });

  test("key swapped in the blob (bob's key, alice's signature) → rejected", async () => {
    const blob = unarmor(await signSshsig(record, signer, ns));
    const aliceKey = parsePublicKeyLine(alice.publicLine).blob;
    const bobKey = parsePublicKeyLine(bob.publicLine).blob;
    const at = blob.indexOf(aliceKey);
    expect(at).toBeGreaterThan(0);
    bobKey.copy(blob, at);
    expect(verifySshsig(record, rearmor(blob), ns)).toEqual({
      ok: false,
      reason: "signature does not match the message",
    });
  });

  test.each([
    ["bad magic", (b: Buffer) => b.write("SSHSIH", 0)],
    ["version 2", (b: Buffer) => b.writeUInt32BE(2, 6)],
  ])("%s → malformed", async (_name, mutate) => {
    const blob = unarmor(await signSshsig(record, signer, ns));
    mutate(blob);
    const v = verifySshsig(record, rearmor(blob), ns);
    expect(v.ok).toBe(false);
    expect(!v.ok && v.reason).toMatch(/^malformed SSH signature/);
    expect(() => parseSshsig(rearmor(blob))).toThrow(VerificationError);
  });

  test("hash algorithm other than sha512/sha256 → rejected; sha256 is accepted", async () => {
    const armored = await signSshsig(record, signer, ns);
    const md5 = rearmor(
      Buffer.from(unarmor(armored).toString("latin1").replace("sha512", "md5xyz"), "latin1"),
    );
    expect(verifySshsig(record, md5, ns)).toMatchObject({
      ok: false,
      reason: 'unsupported hash algorithm "md5xyz"',
    });
    // Same length swap to sha256 keeps the framing valid; the signature no longer matches the envelope.
    const s256 = rearmor(
      Buffer.from(unarmor(armored).toString("latin1").replace("sha512", "sha256"), "latin1"),
    );
    expect(verifySshsig(record, s256, ns)).toEqual({
      ok: false,
      reason: "signature does not match the message",
    });
  });

  test.each([
    ["empty text", ""],
    ["no armor", "hello"],
    ["missing END", "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n"],
    ["bad base64", "-----BEGIN SSH SIGNATURE-----\nU1N*SU%H\n-----END SSH SIGNATURE-----\n"],
    ["truncated blob", "-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----\n"],
  ])("garbage (%s) → parseSshsig throws VerificationError, verifySshsig says malformed", (_name, text) => {
    expect(() => parseSshsig(text)).toThrow(VerificationError);
    expect(verifySshsig(record, text, ns)).toMatchObject({ ok: false });
  });

  test("trailing data after the signature blob → rejected", async () => {
    const blob = unarmor(await signSshsig(record, signer, ns));
    expect(verifySshsig(record, rearmor(Buffer.concat([blob, Buffer.from([0])])), ns)).toMatchObject({
      ok: false,
      reason: "malformed SSH signature: trailing data after the signature blob",
    });
  });

  test("an empty namespace is refused when signing", async () => {
    await expect(signSshsig(record, signer, "")).rejects.toThrow(/namespace/);
  });
});

test("2,000 distinct messages sign and verify; each fails against its neighbour's message", async () => {
  const messages = Array.from({ length: 2000 }, (_, i) => Buffer.from(`{"seq":${i},"v":1}`));
  const sigs: string[] = [];
  for (const m of messages) sigs.push(await signSshsig(m, signer, ns));
  let good = 0;
  let crossed = 0;
  for (let i = 0; i < messages.length; i++) {
    if (verifySshsig(messages[i]!, sigs[i]!, ns).ok) good++;
    if (verifySshsig(messages[(i + 1) % messages.length]!, sigs[i]!, ns).ok) crossed++;
  }
  expect(good).toBe(2000);
  expect(crossed).toBe(0);
  // The thread-pool variant, all in flight at once, agrees record by record.
  const sharded = await Promise.all(messages.map((m, i) => verifySshsigAsync(m, sigs[i]!, ns)));
  expect(sharded.every((v) => v.ok)).toBe(true);
  const crossedAsync = await Promise.all(
    messages.map((m, i) => verifySshsigAsync(m, sigs[(i + 1) % 2000]!, ns)),
  );
  expect(crossedAsync.filter((v) => v.ok)).toHaveLength(0);
  // Spot-check a few with OpenSSH itself.
  for (const i of [0, 999, 1999]) {
    const files = await writeSigned(`loop-${i}`, messages[i]!, sigs[i]!);
    expect(
      (await sshKeygenVerify({ allowedSigners, principal: "alice@example.com", namespace: ns, ...files }))
        .code,
    ).toBe(0);
  }
});

test("the .sig text equals what parse → re-armor gives (wrapping at 70 columns)", async () => {
  const armored = await signSshsig(record, signer, ns);
  const lines = armored.split("\n");
  expect(lines[0]).toBe("-----BEGIN SSH SIGNATURE-----");
  expect(lines.at(-2)).toBe("-----END SSH SIGNATURE-----");
  expect(lines.at(-1)).toBe("");
  expect(lines.slice(1, -3).every((l) => l.length === 70)).toBe(true);
  expect(rearmor(unarmor(armored))).toBe(armored);
  expect(await readFile(alice.publicPath, "utf8")).toContain(signer.publicKeyLine);
});

function unarmor(armored: string): Buffer {
  return Buffer.from(armored.split("\n").slice(1, -2).join(""), "base64");
}

function rearmor(blob: Buffer): string {
  const b64 = blob.toString("base64").match(/.{1,70}/g) ?? [];
  return ["-----BEGIN SSH SIGNATURE-----", ...b64, "-----END SSH SIGNATURE-----", ""].join("\n");
}

function flip(b: Buffer, i: number): Buffer {
  b.writeUInt8(b.readUInt8(i) ^ 0x40, i);
  return b;
}
