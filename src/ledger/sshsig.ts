/**
 * SSH signatures (OpenSSH PROTOCOL.sshsig), the format `ssh-keygen -Y sign|verify` reads and
 * writes, so auditors can check the ledger with stock OpenSSH. Ed25519 only; verification runs
 * in-process with node:crypto. Also home of the small SSH wire-format reader/writer (RFC 4251 §5)
 * the key and agent modules share, so this module — the one `guard` loads — needs only node:crypto.
 */
import { createHash, createPublicKey, type KeyObject, verify } from "node:crypto";
import { FailedError, UsageError, VerificationError } from "../errors.js";
import type { Signer } from "./keys.js";

// ---- SSH wire format (RFC 4251 §5): uint32 big-endian, string = uint32 length + bytes ----

export function sshU32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export function sshString(data: Buffer | string): Buffer {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  return Buffer.concat([sshU32(bytes.length), bytes]);
}

/** Sequential reader; throws a RangeError on truncated input, which callers turn into their typed error. */
export class SshReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  bytes(n: number): Buffer {
    if (n > this.remaining) throw new RangeError("truncated data");
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  u32(): number {
    return this.bytes(4).readUInt32BE(0);
  }
  string(): Buffer {
    return this.bytes(this.u32());
  }
  text(): string {
    return this.string().toString("utf8");
  }
  end(what: string): void {
    if (this.remaining !== 0) throw new RangeError(`trailing data after ${what}`);
  }
}

// ---- PROTOCOL.sshsig ----

const magic = Buffer.from("SSHSIG");
const begin = "-----BEGIN SSH SIGNATURE-----";
const end = "-----END SSH SIGNATURE-----";
const ed25519 = "ssh-ed25519";
// DER SubjectPublicKeyInfo header for an Ed25519 key (RFC 8410 §4); the 32 key bytes follow.
const ed25519Spki = Buffer.from("302a300506032b6570032100", "hex");

export interface ParsedSshsig {
  publicKeyBlob: Buffer;
  namespace: string;
  hashAlgorithm: string;
  signature: Buffer;
  keyType: string;
}

/**
 * PROTOCOL.sshsig §"Signed Data": what the key actually signs is this envelope around the
 * message's hash, never the message itself. `reserved` is always empty, as OpenSSH writes and
 * verifies it whatever the signature blob carries.
 */
function signedData(namespace: string, hashAlgorithm: "sha256" | "sha512", message: Buffer): Buffer {
  const digest = createHash(hashAlgorithm).update(message).digest();
  return Buffer.concat([
    magic,
    sshString(namespace),
    sshString(""),
    sshString(hashAlgorithm),
    sshString(digest),
  ]);
}

export async function signSshsig(message: Buffer, signer: Signer, namespace: string): Promise<string> {
  if (namespace === "") {
    throw new UsageError("an SSH signature needs a namespace", { hint: 'e.g. "optout-audit"' });
  }
  const raw = await signer.sign(signedData(namespace, "sha512", message));
  if (raw.length !== 64) {
    throw new FailedError(
      `signing with ${signer.fingerprint} returned a ${raw.length}-byte signature, not 64`,
    );
  }
  // PROTOCOL.sshsig §"Blob format": magic, version, publickey, namespace, reserved, hash, signature;
  // the signature is itself an SSH signature blob: string "ssh-ed25519", string raw (RFC 8709 §6).
  const blob = Buffer.concat([
    magic,
    sshU32(1),
    sshString(signer.publicKeyBlob),
    sshString(namespace),
    sshString(""),
    sshString("sha512"),
    sshString(Buffer.concat([sshString(ed25519), sshString(raw)])),
  ]);
  return armor(blob);
}

/** PROTOCOL.sshsig §"Armored format", as ssh-keygen writes it: base64 wrapped at 70 columns. */
function armor(blob: Buffer): string {
  const b64 = blob.toString("base64");
  const lines = [begin];
  for (let i = 0; i < b64.length; i += 70) lines.push(b64.slice(i, i + 70));
  lines.push(end, "");
  return lines.join("\n");
}

function dearmor(armored: string): Buffer {
  const lines = armored.trim().split(/\r?\n/);
  if (lines[0] !== begin) throw new RangeError(`does not start with ${begin}`);
  const endAt = lines.indexOf(end);
  if (endAt < 0) throw new RangeError(`no ${end} line`);
  if (endAt !== lines.length - 1) throw new RangeError(`text after ${end}`);
  const body = lines.slice(1, endAt).join("");
  if (body.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new RangeError("invalid base64");
  return Buffer.from(body, "base64");
}

interface Decoded extends ParsedSshsig {
  signatureType: string;
  signatureTrailer: number;
}

function decode(armored: string): Decoded {
  const r = new SshReader(dearmor(armored));
  if (!r.bytes(6).equals(magic)) throw new RangeError("bad magic, not an SSHSIG blob");
  const version = r.u32();
  if (version !== 1) throw new RangeError(`unsupported SSHSIG version ${version}`);
  const publicKeyBlob = r.string();
  const namespace = r.text();
  r.string(); // reserved
  const hashAlgorithm = r.text();
  const sig = new SshReader(r.string());
  r.end("the signature blob");
  const keyType = new SshReader(publicKeyBlob).text();
  const signatureType = sig.text();
  const signature = sig.string();
  return {
    publicKeyBlob,
    namespace,
    hashAlgorithm,
    signature,
    keyType,
    signatureType,
    signatureTrailer: sig.remaining,
  };
}

/** Decodes an armored SSH signature without checking it. Throws a VerificationError when malformed. */
export function parseSshsig(armored: string): ParsedSshsig {
  try {
    const { publicKeyBlob, namespace, hashAlgorithm, signature, keyType } = decode(armored);
    return { publicKeyBlob, namespace, hashAlgorithm, signature, keyType };
  } catch (e) {
    throw new VerificationError(`malformed SSH signature: ${(e as Error).message}`, { cause: e });
  }
}

export type SshsigVerdict = { ok: true; publicKeyBlob: Buffer } | { ok: false; reason: string };

/**
 * Checks that `armored` is a valid signature of `message` in `namespace` by the key it names. Says
 * nothing about whether that key is trusted: match `publicKeyBlob` against allowed_signers.
 */
export function verifySshsig(message: Buffer, armored: string, namespace: string): SshsigVerdict {
  const c = check(message, armored, namespace);
  if (typeof c === "string") return { ok: false, reason: c };
  return verdict(verify(null, c.data, c.key, c.signature), c.publicKeyBlob);
}

/**
 * verifySshsig with the ed25519 arithmetic on libuv's thread pool. One ed25519 verification is
 * most of a record's cost and one core does only ~4-6k/s, so `log --verify` keeps several of these
 * in flight to use every core.
 */
export function verifySshsigAsync(
  message: Buffer,
  armored: string,
  namespace: string,
): Promise<SshsigVerdict> {
  const c = check(message, armored, namespace);
  if (typeof c === "string") return Promise.resolve({ ok: false, reason: c });
  return new Promise((resolve) => {
    verify(null, c.data, c.key, c.signature, (err, ok) =>
      resolve(err ? { ok: false, reason: `ed25519: ${err.message}` } : verdict(ok, c.publicKeyBlob)),
    );
  });
}

function verdict(ok: boolean, publicKeyBlob: Buffer): SshsigVerdict {
  return ok ? { ok: true, publicKeyBlob } : { ok: false, reason: "signature does not match the message" };
}

interface Checked {
  key: KeyObject;
  data: Buffer;
  signature: Buffer;
  publicKeyBlob: Buffer;
}

/** Everything but the curve arithmetic. Returns the reason to refuse, or what to verify. */
function check(message: Buffer, armored: string, namespace: string): Checked | string {
  let d: Decoded;
  try {
    d = decode(armored);
  } catch (e) {
    return `malformed SSH signature: ${(e as Error).message}`;
  }
  if (d.namespace !== namespace) {
    return `signature namespace is ${JSON.stringify(d.namespace)}, expected ${JSON.stringify(namespace)}`;
  }
  if (d.hashAlgorithm !== "sha512" && d.hashAlgorithm !== "sha256") {
    return `unsupported hash algorithm ${JSON.stringify(d.hashAlgorithm)}`;
  }
  if (d.keyType !== ed25519) return `unsupported key type ${JSON.stringify(d.keyType)}`;
  if (d.signatureType !== ed25519) {
    return `signature type ${JSON.stringify(d.signatureType)} does not match key type ${ed25519}`;
  }
  if (d.signature.length !== 64 || d.signatureTrailer !== 0) return "malformed ed25519 signature";
  const key = ed25519Key(d.publicKeyBlob);
  if (!key) return "malformed ed25519 public key";
  const data = signedData(namespace, d.hashAlgorithm, message);
  return { key, data, signature: d.signature, publicKeyBlob: d.publicKeyBlob };
}

// `log --verify` checks thousands of records signed by a handful of keys: building a KeyObject
// costs about as much as the verification itself, so keep the few we have seen.
const keyCache = new Map<string, KeyObject>();
const keyCacheMax = 64;

function ed25519Key(blob: Buffer): KeyObject | undefined {
  const id = blob.toString("base64");
  const cached = keyCache.get(id);
  if (cached) return cached;
  let key: KeyObject;
  try {
    const r = new SshReader(blob);
    if (r.text() !== ed25519) return undefined;
    const pk = r.string();
    r.end("the public key");
    if (pk.length !== 32) return undefined;
    key = createPublicKey({ key: Buffer.concat([ed25519Spki, pk]), format: "der", type: "spki" });
  } catch {
    return undefined;
  }
  if (keyCache.size >= keyCacheMax) keyCache.delete(keyCache.keys().next().value!);
  keyCache.set(id, key);
  return key;
}
