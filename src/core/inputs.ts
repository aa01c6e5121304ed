/**
 * What a value typed on the command line must be before it goes into a signed record, reaches git
 * or a command's arguments, or is printed on a terminal. Records are kept for ever and read by
 * people, terminals and scripts, so the checks happen at write time: exit 2, one line, a hint.
 */
import { UsageError } from "../errors.js";
import { tokenKind } from "./secrets.js";
import { escapeControls, hasControl } from "./text.js";

/** A ref longer than this is refused: git has no limit, but file systems cap a name at 255 bytes. */
export const maxRefBytes = 255;

/**
 * `value` as it can be shown in a one-line message: quoted, control characters as \u{…} escapes,
 * cut at `max` characters. A refused value is never echoed raw.
 */
export function shown(value: string, max = 60): string {
  const chars = [...value];
  const cut = chars.length > max ? `${chars.slice(0, max).join("")}…` : value;
  const escaped = escapeControls(cut.replace(/\\/g, "\\\\").replace(/"/g, '\\"'));
  return `"${escaped}"`;
}

/**
 * Why `ref` is not a branch or tag name git would accept (the rules of `git check-ref-format`,
 * with one-level names such as "main" allowed), or undefined. Also refused: a leading "-" (git and
 * other commands would read it as an option), "HEAD" (not a branch), and more than 255 bytes.
 */
export function refProblem(ref: string): string | undefined {
  if (ref === "") return "it is empty";
  if (new TextEncoder().encode(ref).length > maxRefBytes) return `it is longer than ${maxRefBytes} bytes`;
  if (hasControl(ref)) return "it holds a control character";
  if (ref.startsWith("-")) return 'it starts with "-"';
  const bad = /[ ~^:?*[\\]/.exec(ref);
  if (bad) return `it holds ${JSON.stringify(bad[0])}`;
  if (ref.includes("..")) return 'it holds ".."';
  if (ref.includes("@{")) return 'it holds "@{"';
  if (ref === "@" || ref === "HEAD") return `${ref} is not a branch or tag name`;
  if (ref.startsWith("/") || ref.endsWith("/") || ref.includes("//"))
    return 'it has an empty part between "/"';
  if (ref.endsWith(".")) return 'it ends with "."';
  for (const part of ref.split("/")) {
    if (part.startsWith(".")) return 'a part of it starts with "."';
    if (part.endsWith(".lock")) return 'a part of it ends with ".lock"';
  }
  return undefined;
}

/** `ref` if git would accept it as a branch or tag name; else a UsageError naming `flag`. */
export function requireRef(ref: string, flag = "--ref"): string {
  const problem = refProblem(ref);
  if (problem) {
    throw new UsageError(`${flag} ${shown(ref)} is not a branch or tag name: ${problem}`, {
      hint: "give the name as git shows it, e.g. main or release/2.4 (see git check-ref-format)",
    });
  }
  return ref;
}

/** `sha` if it is a commit id or an abbreviation git accepts (7 to 64 hex digits); else a UsageError. */
export function requireCommitId(sha: string, flag = "--sha"): string {
  if (!/^[0-9a-f]{7,64}$/i.test(sha)) {
    throw new UsageError(`${flag} ${shown(sha)} is not a commit id`, {
      hint: "give 7 to 64 hexadecimal digits, e.g. the output of git rev-parse HEAD",
    });
  }
  return sha;
}

/** Refuses a value holding a control character (newlines, escapes, bidi overrides). */
export function requirePlain(value: string, what: string): string {
  if (hasControl(value)) {
    throw new UsageError(`${what} ${shown(value)} holds a control character`, {
      hint: "type it on one line, without escape sequences or invisible direction marks",
    });
  }
  return value;
}

/** Refuses a value that a command's argument list would read as an option. */
export function requireNotOption(value: string, what: string): string {
  requirePlain(value, what);
  if (value.startsWith("-")) {
    throw new UsageError(`${what} ${shown(value)} starts with "-"`, {
      hint: "a value that starts with - would be read as an option by the command it is passed to",
    });
  }
  return value;
}

/**
 * Free text kept in a signed record (--reason, --ticket, --note): one line, and no credential.
 * A refused secret is never repeated in the message.
 */
export function requireRecordText(value: string, what: string): string {
  const kind = tokenKind(value);
  if (kind) {
    throw new UsageError(`${what} looks like it holds a secret`, {
      hint: `it looks like ${kind}; never paste secrets into records: they are signed and kept for ever`,
    });
  }
  return requirePlain(value, what);
}
