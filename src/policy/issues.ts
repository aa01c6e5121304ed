/**
 * zod issues → one readable line each. zod's own messages ("Invalid input: expected string,
 * received number") are never shown: each issue code gets a sentence in the policy's words.
 */
import type { z } from "zod";
import { formatPath, type JsonPath, oneOf, type Problems, show } from "./problems.js";
import { nearest } from "./suggest.js";
import { allowedKeysAt, valueAt } from "./walk.js";

type Issue = z.core.$ZodIssue;

/** Extra advice when a required key is missing, by key name. */
const missingHints: Record<string, string> = {
  allow: "nothing is overridable by default: list principals or group names",
  mechanism: 'one of "status", "variable" or "guard"',
  environments: 'list the environments, e.g. ["staging", "production"]',
  targets: 'list the targets to switch between, e.g. ["us-east-1", "eu-west-1"]',
  artifact: 'e.g. { "pattern": "^ghcr\\\\.io/acme/shop@sha256:[0-9a-f]{64}$" }',
};

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "number" && !Number.isInteger(value)) return `the number ${value}`;
  return `a ${typeof value}`;
}

const expectedWords: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "an object",
  record: "an object",
};

function typeProblem(issue: Extract<Issue, { code: "invalid_type" }>, raw: unknown): [string, string?] {
  const value = valueAt(raw, issue.path as JsonPath);
  const key = issue.path.at(-1);
  if (value === undefined) return ["required", typeof key === "string" ? missingHints[key] : undefined];
  const expected = expectedWords[issue.expected] ?? issue.expected;
  return [`expected ${expected}, got ${describe(value)}`];
}

function sizeProblem(issue: Extract<Issue, { code: "too_small" | "too_big" }>): string {
  const small = issue.code === "too_small";
  const n = Number(small ? issue.minimum : issue.maximum);
  if (issue.origin === "array") {
    if (small && n === 1) return "must not be empty";
    return `must list ${small ? "at least" : "at most"} ${n}`;
  }
  if (issue.origin === "string") {
    if (small && n === 1) return "must not be empty";
    return `must be ${small ? "at least" : "at most"} ${n} characters`;
  }
  const inclusive = issue.inclusive !== false;
  if (small) return inclusive ? `must be at least ${n}` : `must be more than ${n}`;
  return inclusive ? `must be at most ${n}` : `must be less than ${n}`;
}

function valueProblem(values: readonly unknown[], input: unknown): string {
  const message = values.length === 1 ? `must be ${oneOf(values)}` : `must be one of ${oneOf(values)}`;
  const strings = values.filter((v): v is string => typeof v === "string");
  const near = typeof input === "string" ? nearest(input, strings) : undefined;
  return near ? `${message}; did you mean ${JSON.stringify(near)}?` : message;
}

/**
 * Adds the problems of all zod issues. Unknown keys come first, and a key they suggest is not
 * also reported missing: `alow` is one mistake, not two.
 */
export function addIssues(problems: Problems, issues: readonly Issue[], raw: unknown): void {
  const suggested = new Set<string>();
  const ordered = [...issues].sort(
    (a, b) => Number(b.code === "unrecognized_keys") - Number(a.code === "unrecognized_keys"),
  );
  for (const issue of ordered) {
    const path = issue.path as JsonPath;
    if (issue.code === "unrecognized_keys") {
      const allowed = allowedKeysAt(raw, path) ?? [];
      for (const key of issue.keys) {
        const near = nearest(key, allowed);
        if (near) {
          problems.add([...path, key], `unknown key; did you mean ${near}?`);
          suggested.add(formatPath([...path, near]));
        } else {
          const hint = allowed.length ? `keys allowed here: ${allowed.join(", ")}` : undefined;
          problems.add([...path, key], "unknown key", hint);
        }
      }
    } else if (
      !(issue.code === "invalid_type" && suggested.has(formatPath(path)) && valueAt(raw, path) === undefined)
    ) {
      addIssue(problems, issue, raw);
    }
  }
}

/** Adds the problem one zod issue (other than unknown keys) stands for. */
function addIssue(problems: Problems, issue: Issue, raw: unknown): void {
  const path = issue.path as JsonPath;
  switch (issue.code) {
    case "invalid_type": {
      const [message, hint] = typeProblem(issue, raw);
      problems.add(path, message, hint);
      return;
    }
    case "too_small":
    case "too_big":
      problems.add(path, sizeProblem(issue));
      return;
    case "invalid_value": {
      const input = valueAt(raw, path);
      problems.add(path, `${input === undefined ? "required; " : ""}${valueProblem(issue.values, input)}`);
      return;
    }
    case "invalid_union": {
      // Only the notify list is a union: its `type` picks the channel.
      const options = (issue as { options?: unknown[] }).options;
      if (options) {
        const input = valueAt(raw, path);
        const message = valueProblem(options, input);
        problems.add(path, input === undefined ? `required; ${message}` : message);
      } else {
        problems.add(path, "does not match any allowed form");
      }
      return;
    }
    case "invalid_key":
      // Record keys are names; the inner issue carries our own message (see schema.ts).
      problems.add(path, issue.issues[0]?.message ?? "invalid name");
      return;
    case "invalid_format":
    case "custom": {
      // Our schemas give every format and refinement its own message; the hint rides in params.
      const hint = (issue as { params?: { hint?: string } }).params?.hint;
      problems.add(path, issue.message, hint);
      return;
    }
    default:
      problems.add(path, `is not valid (${show(valueAt(raw, path))})`);
  }
}
