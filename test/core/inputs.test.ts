/**
 * Input rules at write time: refs by git's own rules (checked against `git check-ref-format`),
 * commit ids, control characters, secrets and visible length in the texts kept in records.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { validateInputs } from "../../src/core/authorize.js";
import {
  refProblem,
  requireCommitId,
  requireNotOption,
  requirePlain,
  requireRecordText,
  requireRef,
  shown,
} from "../../src/core/inputs.js";
import type { EntryRules } from "../../src/core/policy.js";
import { ExitCode, UsageError } from "../../src/errors.js";

const exec = promisify(execFile);

async function gitAccepts(ref: string): Promise<boolean> {
  return exec("git", ["check-ref-format", "--allow-onelevel", ref]).then(
    () => true,
    () => false,
  );
}

/** Names git is asked about (none starts with "-": git would parse those as its own options). */
const corpus = [
  "main",
  "release/2.4",
  "feature/JIRA-12_fix",
  "ü-branch",
  "v1.0.0",
  "a.b",
  "a/b/c",
  "x@y",
  "a..b",
  "../../etc",
  "a@{1}",
  "@",
  "a b",
  "a~1",
  "a^",
  "a:b",
  "a?",
  "a*",
  "a[1]",
  "a\\b",
  "a.lock",
  "a.lock/b",
  "x/y.lock/z",
  "a/",
  "/a",
  "a//b",
  ".a",
  "a/.b",
  "a.",
  "a\nb",
  "a\tb",
  "a\u001b[31mred",
  "a\u007f",
];

function usage(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    expect((e as UsageError).exitCode).toBe(ExitCode.usage);
    return e as UsageError;
  }
  throw new Error("expected a UsageError");
}

describe("refs", () => {
  it("agree with git check-ref-format on every name git can be asked about", async () => {
    for (const ref of corpus) {
      expect({ ref, ok: refProblem(ref) === undefined }).toEqual({ ref, ok: await gitAccepts(ref) });
    }
  });

  it("refuse what git would read as an option, HEAD, and names past 255 bytes", () => {
    for (const ref of ["-x", "-x --upload-pack=touch /tmp/pwned", "--upload-pack=x", "-", "HEAD"]) {
      expect(refProblem(ref), ref).toBeDefined();
    }
    expect(refProblem("a".repeat(255))).toBeUndefined();
    expect(refProblem("a".repeat(256))).toMatch(/longer than 255 bytes/);
    expect(refProblem("ü".repeat(128))).toMatch(/longer than 255 bytes/); // 256 bytes in UTF-8
    expect(refProblem("a".repeat(100 * 1024))).toMatch(/longer than 255 bytes/);
  });

  it("refuse bidi overrides and other controls git itself would allow", () => {
    expect(refProblem("main\u202etxt.exe")).toMatch(/control character/);
  });

  it("say what is wrong without echoing the value raw", () => {
    const e = usage(() => requireRef("\u001b]0;pwned\u0007main"));
    expect(e.message).toBe(
      '--ref "\\u{1b}]0;pwned\\u{7}main" is not a branch or tag name: it holds a control character',
    );
    expect(e.hint).toMatch(/git check-ref-format/);
    const long = usage(() => requireRef("a".repeat(100 * 1024)));
    expect(long.message.length).toBeLessThan(160);
    expect(usage(() => requireRef("../../etc")).message).toMatch(/it holds "\.\."$/);
    expect(usage(() => requireRef("-x --upload-pack=touch /tmp/p")).message).toMatch(/it starts with "-"$/);
  });
});

describe("commit ids", () => {
  it("take 7 to 64 hex digits", () => {
    expect(requireCommitId("abcdef0")).toBe("abcdef0");
    expect(requireCommitId("A".repeat(40))).toBe("A".repeat(40));
    expect(requireCommitId("f".repeat(64))).toBe("f".repeat(64));
    for (const bad of ["abcdef", "f".repeat(65), "-abcdef0", "HEAD", "main", "abcdefg", "abcdef0\n"]) {
      expect(usage(() => requireCommitId(bad)).message).toMatch(/^--sha ".*" is not a commit id$/);
    }
  });
});

describe("plain values", () => {
  it("refuse control characters and quote them escaped", () => {
    expect(requirePlain("lint", "stage")).toBe("lint");
    expect(usage(() => requirePlain("lint\nrm -rf /", "stage")).message).toBe(
      'stage "lint\\u{a}rm -rf /" holds a control character',
    );
    expect(usage(() => requirePlain("x\u202ey", "--to")).message).toMatch(/control character/);
  });

  it("refuse a value that would be read as an option", () => {
    expect(requireNotOption("ghcr.io/acme/shop@sha256:abc", "--artifact")).toBe(
      "ghcr.io/acme/shop@sha256:abc",
    );
    expect(usage(() => requireNotOption("--upload-pack=x", "--artifact")).message).toMatch(/starts with "-"/);
  });

  it("show a value on one line, escaped and cut", () => {
    expect(shown('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(shown("x".repeat(100))).toBe(`"${"x".repeat(60)}…"`);
  });
});

describe("texts kept in records", () => {
  const token = `ghp_${"aZ09bY18cX".repeat(4).slice(0, 36)}`;

  it("refuse a token and never repeat it", () => {
    const e = usage(() => requireRecordText(`deploy with ${token} please`, "--reason"));
    expect(e.message).toBe("--reason looks like it holds a secret");
    expect(e.hint).toBe(
      "it looks like a GitHub token; never paste secrets into records: they are signed and kept for ever",
    );
    expect(`${e.message} ${e.hint}`).not.toContain(token);
  });

  const rules: EntryRules = {
    allow: [{ kind: "user", login: "alice" }],
    ttlMs: 4 * 3_600_000,
    maxTtlMs: 24 * 3_600_000,
    reasonMinLength: 15,
    ticket: { required: false },
  };

  it("count the visible characters of a reason", () => {
    const zwsp = "\u200b".repeat(16);
    expect(
      usage(() => validateInputs(rules, { reason: zwsp, ticket: undefined, ttlMs: undefined }, "skip lint"))
        .message,
    ).toBe("--reason is 0 visible characters; skip lint needs at least 15");
    expect(
      usage(() =>
        validateInputs(
          rules,
          { reason: `ab${"\u200d".repeat(20)}`, ticket: undefined, ttlMs: undefined },
          "skip lint",
        ),
      ).message,
    ).toMatch(/is 2 visible characters/);
    expect(
      validateInputs(
        rules,
        { reason: "linter crashes on node 22", ticket: undefined, ttlMs: undefined },
        "skip lint",
      ),
    ).toEqual({
      ttlMs: 4 * 3_600_000,
    });
  });

  it("refuse tokens and control characters in reason and ticket", () => {
    const run = (reason: string, ticket?: string) =>
      usage(() => validateInputs(rules, { reason, ticket, ttlMs: undefined }, "skip lint"));
    expect(run(`linter broken, token ${token}`).message).toBe("--reason looks like it holds a secret");
    expect(run("linter broken on node 22", `glpat-${"x".repeat(20)}`).hint).toMatch(
      /^it looks like a GitLab token;/,
    );
    expect(run("linter broken\u001b[2J on node 22").message).toMatch(
      /^--reason ".*" holds a control character$/,
    );
    expect(run("linter broken on node 22", "INC-1\nINC-2").message).toMatch(
      /^--ticket ".*" holds a control character$/,
    );
  });
});
