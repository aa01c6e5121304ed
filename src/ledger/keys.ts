/**
 * The signing key. Unencrypted OpenSSH ed25519 keys sign in-process with node:crypto; encrypted
 * keys and public key files sign through ssh-agent. Messages name paths, key types and
 * fingerprints, never key material.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign } from "node:crypto";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { UsageError } from "../errors.js";
import { git } from "../git/run.js";
import { SshReader } from "./sshsig.js";

export interface Signer {
  keyType: "ssh-ed25519";
  /** SSH wire format: string "ssh-ed25519", string 32-byte key. */
  publicKeyBlob: Buffer;
  /** "ssh-ed25519 AAAA…", no comment. */
  publicKeyLine: string;
  /** "SHA256:…" as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** Raw 64-byte ed25519 signature of `data`. */
  sign(data: Buffer): Promise<Buffer>;
}

const ed25519 = "ssh-ed25519";
const generateHint = "generate one with `ssh-keygen -t ed25519`";

export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** Parses "keytype base64 [comment]" (a .pub file's line). Throws a UsageError when it is not one. */
export function parsePublicKeyLine(line: string): { keyType: string; blob: Buffer; comment?: string } {
  const [keyType = "", b64 = "", ...rest] = line.trim().split(/[ \t]+/);
  if (
    !/^[A-Za-z0-9@.-]{1,64}$/.test(keyType) ||
    b64.length % 4 !== 0 ||
    !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)
  ) {
    throw new UsageError("not an SSH public key (expected: keytype base64-key [comment])");
  }
  const blob = Buffer.from(b64, "base64");
  let inner: string;
  try {
    inner = new SshReader(blob).text();
  } catch {
    throw new UsageError(`not an SSH public key: the ${keyType} key data is truncated`);
  }
  // The key type is repeated inside the blob (RFC 4253 §6.6); a mismatch is a corrupted or forged line.
  if (inner !== keyType) {
    throw new UsageError(`not an SSH public key: ${keyType} line holds a ${printable(inner)} key`);
  }
  const comment = rest.join(" ");
  return comment ? { keyType, blob, comment } : { keyType, blob };
}

export async function loadSigner(path: string, env: NodeJS.ProcessEnv = process.env): Promise<Signer> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "unreadable";
    if (code === "ENOENT") {
      throw new UsageError(`no signing key at ${path}`, {
        hint: `make one with \`ssh-keygen -t ed25519 -f ${path}\`, or point OPTOUT_SIGNING_KEY at your ed25519 key; a maintainer then adds its public half to allowed_signers`,
        cause: e,
      });
    }
    throw new UsageError(`cannot read signing key ${path} (${code})`, {
      hint: "check the file's permissions, or point OPTOUT_SIGNING_KEY at another ed25519 key",
      cause: e,
    });
  }
  const content = text.trim();
  if (content.startsWith("-----BEGIN OPENSSH PRIVATE KEY-----")) {
    const key = parseOpensshKey(path, content);
    if (key.keyType !== ed25519) throw wrongType(path, key.keyType);
    if (key.privateKey) return inProcessSigner(key.publicKeyBlob, key.privateKey);
    return agentSigner(path, key.publicKeyBlob, "passphrase-protected", env);
  }
  const pem = /^-----BEGIN ([A-Z0-9 ]{1,40})-----/.exec(content);
  if (pem) throw wrongType(path, pem[1] === "PRIVATE KEY" ? "a PKCS#8 private key" : `a PEM "${pem[1]}"`);
  let pub: ReturnType<typeof parsePublicKeyLine> | undefined;
  try {
    pub = parsePublicKeyLine(content.split("\n")[0] ?? "");
  } catch {
    pub = undefined;
  }
  if (!pub) throw wrongType(path, "not an SSH key (unrecognized content)");
  if (pub.keyType !== ed25519) throw wrongType(path, pub.keyType);
  return agentSigner(path, pub.blob, "a public key", env);
}

function wrongType(path: string, found: string): UsageError {
  return new UsageError(`signing key ${path} is ${printable(found)}; optout signs with ed25519 keys only`, {
    hint: generateHint,
  });
}

// Key types come from the file; keep what we echo short and printable.
function printable(s: string): string {
  return /^[\x20-\x7e]{1,64}$/.test(s) ? s : "an unknown key type";
}

interface OpensshKey {
  keyType: string;
  publicKeyBlob: Buffer;
  /** Present when the file is unencrypted (cipher "none"). */
  privateKey?: KeyObject;
}

/** OpenSSH PROTOCOL.key: the "openssh-key-v1" container `ssh-keygen` writes. */
function parseOpensshKey(path: string, content: string): OpensshKey {
  const body = content
    .replace(/^-----BEGIN OPENSSH PRIVATE KEY-----/, "")
    .replace(/-----END OPENSSH PRIVATE KEY-----$/, "")
    .replace(/\s+/g, "");
  const data = Buffer.from(body, "base64");
  try {
    const r = new SshReader(data);
    // PROTOCOL.key §1: "openssh-key-v1\0", string ciphername, string kdfname, string kdfoptions,
    // uint32 number of keys, string publickey (×N), string encrypted private keys.
    if (r.bytes(15).toString("latin1") !== "openssh-key-v1\0") throw new RangeError("not openssh-key-v1");
    const cipher = r.text();
    r.text(); // kdfname
    r.string(); // kdfoptions
    const count = r.u32();
    if (count !== 1) throw new RangeError(`holds ${count} keys, expected 1`);
    // A copy: `data` is wiped below, and the public key outlives it.
    const publicKeyBlob = Buffer.from(r.string());
    const keyType = new SshReader(publicKeyBlob).text();
    const sealed = r.string();
    r.end("the private keys");
    if (keyType !== ed25519 || cipher !== "none") return { keyType, publicKeyBlob };
    return { keyType, publicKeyBlob, privateKey: ed25519PrivateKey(publicKeyBlob, sealed) };
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`signing key ${path} is not a valid OpenSSH private key: ${(e as Error).message}`, {
      hint: generateHint,
    });
  } finally {
    data.fill(0);
  }
}

/**
 * PROTOCOL.key §3 (unencrypted): uint32 checkint ×2, string "ssh-ed25519", string pk (32),
 * string sk (64 = seed ‖ pk), string comment, padding 1, 2, 3, ….
 */
function ed25519PrivateKey(publicKeyBlob: Buffer, section: Buffer): KeyObject {
  const r = new SshReader(section);
  // Two equal random check words: with a wrong passphrase (or corruption) they differ.
  const check = r.u32();
  if (r.u32() !== check) throw new RangeError("check bytes differ (corrupted)");
  if (r.text() !== ed25519) throw new RangeError("private key type differs from the public key");
  const pk = r.string();
  const sk = r.string();
  r.string(); // comment
  const padding = r.bytes(r.remaining);
  const headerPk = new SshReader(publicKeyBlob);
  headerPk.text();
  if (pk.length !== 32 || sk.length !== 64 || !pk.equals(headerPk.string()) || !pk.equals(sk.subarray(32))) {
    throw new RangeError("ed25519 key parts are inconsistent");
  }
  if (padding.some((b, i) => b !== i + 1)) throw new RangeError("bad padding");
  const key = createPrivateKey({
    key: {
      kty: "OKP",
      crv: "Ed25519",
      d: sk.subarray(0, 32).toString("base64url"),
      x: pk.toString("base64url"),
    },
    format: "jwk",
  });
  // The seed must derive the public key the file advertises, or we would sign as someone else.
  const derived = createPublicKey(key).export({ format: "der", type: "spki" }).subarray(-32);
  if (!derived.equals(pk)) throw new RangeError("ed25519 seed does not match its public key");
  return key;
}

function publicParts(blob: Buffer): Omit<Signer, "sign"> {
  return {
    keyType: ed25519,
    publicKeyBlob: blob,
    publicKeyLine: `${ed25519} ${blob.toString("base64")}`,
    fingerprint: fingerprint(blob),
  };
}

function inProcessSigner(blob: Buffer, key: KeyObject): Signer {
  return { ...publicParts(blob), sign: async (data) => sign(null, data, key) };
}

async function agentSigner(
  path: string,
  blob: Buffer,
  what: string,
  env: NodeJS.ProcessEnv,
): Promise<Signer> {
  const info = publicParts(blob);
  const privatePath = path.endsWith(".pub") ? path.slice(0, -4) : path;
  const add = `ssh-add ${shellQuote(privatePath)}`;
  const hint = `load it into ssh-agent: ${add}`;
  const startHint = `start an agent and load the key: eval "$(ssh-agent)" && ${add}`;
  const sock = env.SSH_AUTH_SOCK;
  if (!sock) {
    throw new UsageError(
      `signing key ${path} is ${what}, so it signs through ssh-agent, but SSH_AUTH_SOCK is not set`,
      { hint: startHint },
    );
  }
  // Only this path needs the agent client (and node:net); keep it off unencrypted-key startup.
  const agent = await import("./agent.js");
  let identities: Awaited<ReturnType<typeof agent.listIdentities>>;
  try {
    identities = await agent.listIdentities(sock);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    throw new UsageError(`signing key ${path} is ${what}, so it signs through ssh-agent: ${e.message}`, {
      cause: e,
      hint: startHint,
    });
  }
  if (!identities.some((id) => id.blob.equals(blob))) {
    throw new UsageError(`signing key ${path} (${info.fingerprint}) is not loaded in ssh-agent at ${sock}`, {
      hint,
    });
  }
  return { ...info, sign: (data) => agent.agentSign(sock, blob, data) };
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./~-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** Where the signing key comes from, and where that choice came from (for messages). */
export interface KeyLocation {
  path: string;
  source: string;
}

/**
 * The signing key's path: the policy's audit.signingKey, else OPTOUT_SIGNING_KEY, else git's ssh
 * signing key (gpg.format ssh + user.signingkey), else ~/.ssh/id_ed25519. `optout init` trusts the
 * key found here, so the key it writes into allowed_signers is the one optout signs with.
 * `~/` is the home directory; other relative paths are from `base` (where optout runs).
 */
export async function signingKeyPath(o: {
  env: Record<string, string | undefined>;
  base: string;
  /** The worktree whose git config may name an ssh signing key (read only when needed). */
  root: () => Promise<string>;
  /** The policy's audit.signingKey. */
  configured?: string | undefined;
}): Promise<KeyLocation> {
  const home = o.env.HOME || homedir();
  const expand = (p: string) =>
    p.startsWith("~/") ? join(home, p.slice(2)) : isAbsolute(p) ? p : resolve(o.base, p);
  if (o.configured) return { path: expand(o.configured), source: "the policy's audit.signingKey" };
  if (o.env.OPTOUT_SIGNING_KEY)
    return { path: expand(o.env.OPTOUT_SIGNING_KEY), source: "OPTOUT_SIGNING_KEY" };
  const root = await o.root();
  const config = async (key: string) => {
    const r = await git(["config", "--get", key], { cwd: root, allowFailure: true });
    return r.code === 0 ? r.stdout.toString("utf8").trim() : "";
  };
  if ((await config("gpg.format")) === "ssh") {
    const key = await config("user.signingkey");
    if (key && !key.startsWith("key::")) return { path: expand(key), source: "git config user.signingkey" };
  }
  return { path: join(home, ".ssh", "id_ed25519"), source: "~/.ssh/id_ed25519" };
}
