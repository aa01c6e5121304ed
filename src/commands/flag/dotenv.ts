/**
 * `flag list --format dotenv`: lines a POSIX shell can source (`set -a; . ./flags.env`) and dotenv
 * parsers read, in which no value can add a line, a variable or a command. Every value is single-
 * quoted, which both read literally: no `$`, backtick, `\` or `#` inside is special. The one
 * character single quotes cannot hold is `'` itself (sh has no escape inside them, and dotenv
 * parsers do not agree on `'\''`), so such a value is refused rather than written ambiguously;
 * so is a control character, which no value may hold. docs/pipelines.md says the same.
 */
import { hasControl } from "../../core/text.js";
import { UsageError } from "../../errors.js";

/** `NAME='value'`, or a UsageError when the value cannot be written so that it reads back exactly. */
export function dotenvLine(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new UsageError(`flag ${JSON.stringify(name)} is not a variable name a dotenv file can hold`);
  }
  if (value.includes("'") || hasControl(value)) {
    throw new UsageError(
      `cannot write flag ${name} as dotenv: its value holds ${value.includes("'") ? "a single quote" : "a control character"}`,
      {
        hint: `read it with \`optout flag get ${name}\`, or give the flag a pattern that excludes such values`,
      },
    );
  }
  return `${name}='${value}'`;
}
