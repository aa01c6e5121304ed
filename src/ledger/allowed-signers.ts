/**
 * OpenSSH's allowed_signers file (ssh-keygen(1), ALLOWED SIGNERS), read the way `ssh-keygen -Y
 * verify` reads it (sshsig.c, check_allowed_keys_line), so optout trusts exactly the keys OpenSSH
 * would. Each line: `principals [options] keytype base64-key [comment]`.
 */
import { ConfigError, UsageError } from "../errors.js";
import { parsePublicKeyLine } from "./keys.js";

export interface AllowedSigner {
  /** Pattern-list entries as written: may hold `*`, `?` and a leading `!`. */
  principals: string[];
  keyType: string;
  /** The key in SSH wire format. */
  blob: Buffer;
  /** From `namespaces="…"`, also a pattern-list. */
  namespaces?: string[];
  validAfter?: Date;
  validBefore?: Date;
  /** `cert-authority`: the key signs certificates; never accepted for a plain-key signature. */
  certAuthority: boolean;
  /** 1-based line number in the source. */
  line: number;
}

const keyTypes = new Set([
  "ssh-ed25519",
  "ssh-rsa",
  "ssh-dss",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
]);

export function parseAllowedSigners(text: string, source: string): AllowedSigner[] {
  const signers: AllowedSigner[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    try {
      signers.push(parseLine(line, i + 1));
    } catch (e) {
      if (!(e instanceof RangeError || e instanceof UsageError)) throw e;
      throw new ConfigError(`${source}:${i + 1}: ${e.message}`, {
        hint: "format: principal[,principal…] [options] ssh-ed25519 AAAA… (see ssh-keygen(1), ALLOWED SIGNERS)",
      });
    }
  });
  return signers;
}

/** The principals `ssh-keygen -Y verify -I` would accept for a signature by `blob` in `namespace` made at `at`. */
export function isAllowed(
  signers: AllowedSigner[],
  principal: string,
  blob: Buffer,
  namespace: string,
  at: Date,
): boolean {
  return signers.some(
    (s) => usable(s, blob, namespace, at) && matchPatternList(principal, s.principals) === 1,
  );
}

/** Literal principals (no wildcard or negated entries) allowed to sign with `blob` in `namespace` at `at`. */
export function principalsForKey(
  signers: AllowedSigner[],
  blob: Buffer,
  namespace: string,
  at: Date,
): string[] {
  const found: string[] = [];
  for (const s of signers) {
    if (!usable(s, blob, namespace, at)) continue;
    for (const p of s.principals) {
      if (/^!|[*?]/.test(p) || found.includes(p)) continue;
      // A literal can still be excluded by a negation on the same line ("*@a.com,!bob@a.com,bob@a.com").
      if (matchPatternList(p, s.principals) === 1) found.push(p);
    }
  }
  return found;
}

/** Keys listed under more than one literal principal: one person counting as two. */
export function keysUnderTwoPrincipals(
  signers: readonly AllowedSigner[],
): { principals: string[]; lines: number[] }[] {
  const byKey = new Map<string, { principals: Set<string>; lines: number[] }>();
  for (const s of signers) {
    if (s.certAuthority) continue;
    const key = s.blob.toString("base64");
    const e = byKey.get(key) ?? { principals: new Set<string>(), lines: [] };
    for (const p of s.principals) if (!/^!|[*?]/.test(p)) e.principals.add(p);
    e.lines.push(s.line);
    byKey.set(key, e);
  }
  return [...byKey.values()]
    .filter((e) => e.principals.size > 1)
    .map((e) => ({ principals: [...e.principals], lines: e.lines }));
}

/** Whether the line lets its key sign as `principal` (in some namespace and window): one of that person's keys. */
export function matchesLiteral(s: AllowedSigner, principal: string): boolean {
  return !s.certAuthority && matchPatternList(principal, s.principals) === 1;
}

function usable(s: AllowedSigner, blob: Buffer, namespace: string, at: Date): boolean {
  if (s.certAuthority || !s.blob.equals(blob)) return false;
  if (s.namespaces && matchPatternList(namespace, s.namespaces) !== 1) return false;
  // sshsig.c compares whole seconds, both bounds inclusive. An unparseable time (NaN) would pass
  // every comparison below, so it allows nothing.
  const t = Math.floor(at.getTime() / 1000);
  if (Number.isNaN(t)) return false;
  if (s.validAfter && t < s.validAfter.getTime() / 1000) return false;
  if (s.validBefore && t > s.validBefore.getTime() / 1000) return false;
  return true;
}

/**
 * OpenSSH match.c match_pattern_list: 1 when some entry matches and none of the `!`-negated
 * ones does, -1 when a negated entry matches, 0 when nothing matches. Case-sensitive.
 */
export function matchPatternList(s: string, patterns: string[]): 1 | 0 | -1 {
  let positive = false;
  for (const p of patterns) {
    const negated = p.startsWith("!");
    if (!matchPattern(s, negated ? p.slice(1) : p)) continue;
    if (negated) return -1;
    positive = true;
  }
  return positive ? 1 : 0;
}

/** `*` matches any run (also empty), `?` one character. Linear backtracking, no regex. */
function matchPattern(s: string, p: string): boolean {
  let si = 0;
  let pi = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    if (pi < p.length && (p[pi] === "?" || (p[pi] !== "*" && p[pi] === s[si]))) {
      si++;
      pi++;
    } else if (pi < p.length && p[pi] === "*") {
      starP = pi++;
      starS = si;
    } else if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
    } else {
      return false;
    }
  }
  while (p[pi] === "*") pi++;
  return pi === p.length;
}

function parseLine(text: string, line: number): AllowedSigner {
  // ssh-keygen(1): the principals field may be quoted, e.g. "a@x.com,b@x.com" (misc.c strdelimw).
  let principalField: string;
  let rest: string;
  if (text.startsWith('"')) {
    const close = text.indexOf('"', 1);
    if (close < 0) throw new RangeError("unterminated quote in principals");
    principalField = text.slice(1, close);
    rest = text.slice(close + 1);
    if (rest !== "" && !/^[ \t]/.test(rest)) {
      throw new RangeError("expected a space after the quoted principals");
    }
  } else {
    const m = /^([^ \t]+)([\s\S]*)$/.exec(text)!;
    principalField = m[1]!;
    rest = m[2]!;
    if (principalField.includes('"')) throw new RangeError("unexpected quote in principals");
  }
  if (principalField === "") throw new RangeError("empty principals");
  rest = skipSpace(rest);
  if (rest === "") throw new RangeError("missing key");

  // As sshkey_read does: a first word that is not a key type is the option list.
  let options: Options = { certAuthority: false };
  const first = firstWord(rest);
  if (!keyTypes.has(first)) {
    const end = optionsEnd(rest);
    // Neither "name=…" nor followed by a key: more likely a key type we do not know than an option.
    if (!first.includes("=") && !keyTypes.has(firstWord(skipSpace(rest.slice(end))))) {
      throw new RangeError(`unknown key type ${JSON.stringify(first.slice(0, 40))}`);
    }
    options = parseOptions(rest.slice(0, end));
    rest = skipSpace(rest.slice(end));
    if (rest === "") throw new RangeError("missing key");
    const type = firstWord(rest);
    if (!keyTypes.has(type)) throw new RangeError(`unknown key type ${JSON.stringify(type.slice(0, 40))}`);
  }
  const [keyType = "", b64 = ""] = rest.split(/[ \t]+/);
  const { blob } = parsePublicKeyLine(`${keyType} ${b64}`);
  return { principals: principalField.split(","), keyType, blob, ...options, line };
}

// OpenSSH's field separators are space and tab only (misc.c WHITESPACE, less the newlines we split on).
function skipSpace(s: string): string {
  return s.replace(/^[ \t]+/, "");
}

function firstWord(s: string): string {
  return /^[^ \t]*/.exec(s)![0];
}

/** sshkey_advance_past_options: up to the first space outside quotes; `\"` does not close a quote. */
function optionsEnd(s: string): number {
  let quoted = false;
  let i = 0;
  for (; i < s.length && (quoted || (s[i] !== " " && s[i] !== "\t")); i++) {
    if (s[i] === "\\" && s[i + 1] === '"') i++;
    else if (s[i] === '"') quoted = !quoted;
  }
  if (quoted) throw new RangeError("unterminated quote in options");
  return i;
}

interface Options {
  certAuthority: boolean;
  namespaces?: string[];
  validAfter?: Date;
  validBefore?: Date;
}

/** sshsig.c sshsigopt_parse: comma-separated, names case-insensitive, values in double quotes. */
function parseOptions(text: string): Options {
  const out: Options = { certAuthority: false };
  let s = text;
  while (s !== "") {
    const m = /^(cert-authority)(?=,|$)|^(namespaces|valid-after|valid-before)=/i.exec(s);
    if (!m) throw new RangeError(`unsupported option ${JSON.stringify(s.split(",")[0]!.slice(0, 40))}`);
    s = s.slice(m[0].length);
    const name = m[0].toLowerCase().replace(/=$/, "");
    if (name === "cert-authority") {
      out.certAuthority = true;
    } else {
      const { value, after } = dequote(s, name);
      s = after;
      if (name === "namespaces") {
        if (out.namespaces) throw new RangeError('multiple "namespaces" options');
        out.namespaces = value.split(",");
      } else {
        const field = name === "valid-after" ? "validAfter" : "validBefore";
        if (out[field]) throw new RangeError(`multiple "${name}" options`);
        out[field] = parseTime(value, name);
      }
    }
    if (s.startsWith(",")) s = s.slice(1);
    else if (s !== "") throw new RangeError(`unexpected text after the ${name} option`);
  }
  if (out.validAfter && out.validBefore && out.validBefore <= out.validAfter) {
    throw new RangeError('"valid-before" is not after "valid-after"');
  }
  return out;
}

/** misc.c opt_dequote: a double-quoted value, `\"` for a literal quote. */
function dequote(s: string, name: string): { value: string; after: string } {
  if (!s.startsWith('"')) throw new RangeError(`${name} value must be in double quotes`);
  let value = "";
  let i = 1;
  for (; i < s.length && s[i] !== '"'; i++) {
    if (s[i] === "\\" && s[i + 1] === '"') i++;
    value += s[i];
  }
  if (i >= s.length) throw new RangeError(`${name} value has no closing quote`);
  return { value, after: s.slice(i + 1) };
}

/**
 * ssh-keygen(1): YYYYMMDD[Z] or YYYYMMDDHHMM[SS][Z], in the system time zone unless suffixed
 * with Z (misc.c parse_absolute_time also accepts "UTC"), as `ssh-keygen -Y verify` on this machine would.
 */
function parseTime(value: string, name: string): Date {
  const m = /^(\d{4})(\d\d)(\d\d)(?:(\d\d)(\d\d)(\d\d)?)?(Z|UTC)?$/i.exec(value);
  if (!m) throw new RangeError(`${name}: ${JSON.stringify(value.slice(0, 40))} is not YYYYMMDD[HHMM[SS]][Z]`);
  const [y, mo, d, h = 0, mi = 0, sec = 0] = m
    .slice(1, 7)
    .map((x) => (x === undefined ? undefined : Number(x)));
  const parts = [y!, mo! - 1, d!, h!, mi!, sec!] as const;
  const date = m[7] ? new Date(Date.UTC(...parts)) : new Date(...parts);
  const back = m[7]
    ? [
        date.getUTCFullYear(),
        date.getUTCMonth(),
        date.getUTCDate(),
        date.getUTCHours(),
        date.getUTCMinutes(),
        date.getUTCSeconds(),
      ]
    : [
        date.getFullYear(),
        date.getMonth(),
        date.getDate(),
        date.getHours(),
        date.getMinutes(),
        date.getSeconds(),
      ];
  // Round-tripping the fields rejects 20240231 or 2460 rather than letting Date roll them over.
  if (back.some((v, i) => v !== parts[i]) || date.getTime() <= 0) {
    throw new RangeError(`${name}: ${value} is not a valid time`);
  }
  return date;
}
