/**
 * Policy problems: one line each (`<file>: <json.path>: <problem>`), collected so that
 * `optout policy check` can show every mistake in one run instead of one per edit.
 */
import { ConfigError } from "../errors.js";
import { redactSecrets } from "./secrets.js";

export interface PolicyProblem {
  /** JSON path such as `stages.lint.allow[0]`; empty for problems with the whole file. */
  path: string;
  message: string;
  hint?: string;
}

export type PathSegment = string | number;
export type JsonPath = readonly PathSegment[];

/** `stages.lint.allow[0]`; keys that would read ambiguously (dots, spaces) as `stages["ci.lint"]`. */
export function formatPath(path: JsonPath): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Quotes a value from the file for a message: secrets redacted, long text shortened. */
export function show(value: unknown): string {
  const text = redactSecrets(typeof value === "string" ? value : String(value));
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

/** Every problem of one file. Thrown as one ConfigError (exit 2) whose message is the first line. */
export class PolicyErrors extends ConfigError {
  /** The file as the user would recognise it (relative to the cwd when inside it). */
  readonly file: string;
  readonly problems: PolicyProblem[];

  constructor(file: string, problems: PolicyProblem[]) {
    const [first, ...rest] = problems;
    if (!first) throw new Error("PolicyErrors needs at least one problem");
    const more = rest.length === 0 ? "" : `${rest.length} more problem${rest.length === 1 ? "" : "s"}`;
    const listAll = more && `${more}: \`optout policy check\` lists them all`;
    const hint = [first.hint, listAll].filter(Boolean).join("; ") || undefined;
    super(formatProblem(file, first), hint === undefined ? {} : { hint });
    this.file = file;
    this.problems = problems;
  }

  /** One printable line per problem, in the order found. */
  lines(): string[] {
    return this.problems.map((p) => formatProblem(this.file, p));
  }
}

export function formatProblem(file: string, p: PolicyProblem): string {
  return p.path === "" ? `${file}: ${p.message}` : `${file}: ${p.path}: ${p.message}`;
}

/**
 * Collects problems during validation. Paths under a reported secret are silenced: the secret's
 * own problem is the one to fix, and other messages there could only repeat or quote it.
 */
export class Problems {
  readonly list: PolicyProblem[] = [];
  private readonly secretPaths: string[] = [];

  /** `prefix` is prepended to every path (`optout` for package.json#optout). */
  constructor(private readonly prefix: JsonPath = []) {}

  add(path: JsonPath, message: string, hint?: string): void {
    const text = formatPath([...this.prefix, ...path]);
    if (this.secretPaths.some((s) => text === s || text.startsWith(`${s}.`) || text.startsWith(`${s}[`))) {
      return;
    }
    if (this.list.some((p) => p.path === text && p.message === message)) return;
    // Keys are redacted too: a token pasted as a key would otherwise come back in its path.
    const problem: PolicyProblem = { path: redactSecrets(text), message: redactSecrets(message) };
    if (hint !== undefined) problem.hint = redactSecrets(hint);
    this.list.push(problem);
  }

  addSecret(path: JsonPath, message: string, hint?: string): void {
    this.add(path, message, hint);
    this.secretPaths.push(formatPath([...this.prefix, ...path]));
  }

  get size(): number {
    return this.list.length;
  }

  throwIfAny(file: string): void {
    if (this.list.length > 0) throw this.toError(file);
  }

  toError(file: string): PolicyErrors {
    return new PolicyErrors(file, this.list);
  }
}

/** `"a", "b" or "c"` for messages listing the allowed choices. */
export function oneOf(values: readonly unknown[]): string {
  const quoted = values.map((v) => JSON.stringify(v));
  return quoted.length <= 1 ? (quoted[0] ?? "") : `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}`;
}
