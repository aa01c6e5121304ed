/**
 * The user's own SSH public key and the principal it gets in allowed_signers. The key is looked
 * up where signing will look for it (ledger/keys.ts signingKeyPath), so the key init trusts is the
 * key optout will sign with.
 */
import { readFile } from "node:fs/promises";
import { UsageError } from "../errors.js";
import { git } from "../git/run.js";
import { parsePublicKeyLine, signingKeyPath } from "../ledger/keys.js";

export interface OwnKey {
  /** The public key file read. */
  path: string;
  /** "ssh-ed25519 AAAA…", without the comment (allowed_signers needs none). */
  publicLine: string;
  comment?: string;
  /** Where the path came from, for the summary. */
  source: string;
}

export type KeyLookup = { key: OwnKey } | { problem: string; hint: string };

/** Characters a principal may not hold: whitespace and allowed_signers pattern-list syntax. */
const PRINCIPAL_PATTERN = /^[^\s,"'*?!#]+$/;

export function validPrincipal(p: string): boolean {
  return PRINCIPAL_PATTERN.test(p);
}

async function gitConfig(root: string, key: string): Promise<string | undefined> {
  const r = await git(["config", "--get", key], { cwd: root, allowFailure: true });
  const v = r.stdout.toString("utf8").trim();
  return r.code === 0 && v ? v : undefined;
}

/** The key signing will use; relative paths are from `base` (where optout runs), as when signing. */
export async function findOwnKey(
  root: string,
  env: Record<string, string | undefined>,
  base = root,
): Promise<KeyLookup> {
  const { path, source } = await signingKeyPath({ env, base, root: async () => root });
  const pubPath = path.endsWith(".pub") ? path : `${path}.pub`;
  let text: string;
  try {
    text = await readFile(pubPath, "utf8");
  } catch {
    return {
      problem: `no public key at ${pubPath} (signing key from ${source})`,
      hint: `create one with: ssh-keygen -t ed25519 -C you@example.com${source === "~/.ssh/id_ed25519" ? "" : ` -f ${path}`}`,
    };
  }
  try {
    const parsed = parsePublicKeyLine(text.split("\n")[0] ?? "");
    if (parsed.keyType !== "ssh-ed25519") {
      return {
        problem: `${pubPath} is a ${parsed.keyType} key; optout signs with ed25519 keys only`,
        hint: "create one with: ssh-keygen -t ed25519 -C you@example.com, or set OPTOUT_SIGNING_KEY",
      };
    }
    const publicLine = `${parsed.keyType} ${parsed.blob.toString("base64")}`;
    return {
      key: { path: pubPath, publicLine, source, ...(parsed.comment ? { comment: parsed.comment } : {}) },
    };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return { problem: `${pubPath}: ${e.message}`, hint: "point OPTOUT_SIGNING_KEY at an ed25519 key" };
  }
}

/**
 * Who the user is, before asking: on a forge the CI login if there is one (a forge principal is a
 * login), else the key's comment (ssh-keygen's default is user@host), git's user.email, $USER.
 */
export async function defaultPrincipal(
  root: string,
  env: Record<string, string | undefined>,
  forge: "github" | "gitlab" | "git",
  key: OwnKey | undefined,
): Promise<string> {
  const login =
    forge === "github" ? env.GITHUB_ACTOR : forge === "gitlab" ? env.GITLAB_USER_LOGIN : undefined;
  const candidates = [login, key?.comment, await gitConfig(root, "user.email"), env.USER, env.USERNAME];
  return candidates.find((c): c is string => !!c && validPrincipal(c)) ?? "me";
}
