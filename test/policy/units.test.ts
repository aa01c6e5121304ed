import { describe, expect, it } from "vitest";
import { lineColumn, locateJsonError } from "../../src/policy/json-syntax.js";
import { formatPath } from "../../src/policy/problems.js";
import { redactSecrets, secretKind } from "../../src/policy/secrets.js";
import { editDistance, nearest } from "../../src/policy/suggest.js";

describe("locateJsonError", () => {
  const at = (text: string) => {
    const found = locateJsonError(text);
    return found && { ...lineColumn(text, found.offset), reason: found.reason };
  };

  it("accepts what JSON.parse accepts", () => {
    for (const text of ['{"a": [1, -2.5e3, true, null, "x\\u00e9\\n"]}', " [] ", '"s"', "0"]) {
      expect(() => JSON.parse(text)).not.toThrow();
      expect(locateJsonError(text)).toBeUndefined();
    }
  });

  it("points at the problem, with a reason that quotes one character at most", () => {
    expect(at('{\n  "a": 1\n  "b": 2\n}')).toEqual({
      line: 3,
      column: 3,
      reason: 'expected "," or "}"; missing a comma?',
    });
    expect(at('{\r\n  "a": [1,]\r\n}')).toEqual({ line: 2, column: 10, reason: 'trailing comma before "]"' });
    expect(at("{'a': 1}")).toMatchObject({
      column: 2,
      reason: "property names need double quotes, not single",
    });
    expect(at("{a: 1}")).toMatchObject({ column: 2, reason: "property names need double quotes" });
    expect(at('{"a": "x\n"}')).toMatchObject({ line: 1, column: 9, reason: "line break inside a string" });
    expect(at('{"a": "x')).toMatchObject({ column: 7, reason: "unterminated string" });
    expect(at('{"a": 1')).toMatchObject({ column: 1, reason: 'unexpected end of file; missing "}"' });
    expect(at('{"a": 1}}')).toMatchObject({
      column: 9,
      reason: 'unexpected "}" after the end of the JSON value',
    });
    expect(at('{"a": ghp_abcdefghijklmnopqrstuvwxyz}')).toMatchObject({
      column: 7,
      reason: 'unexpected "g"',
    });
    expect(at("")).toMatchObject({ reason: "unexpected end of file" });
  });
});

describe("nearest", () => {
  it("suggests plausible typos only", () => {
    expect(editDistance("stgaes", "stages")).toBe(1);
    expect(nearest("alow", ["allow", "approvals", "ttl"])).toBe("allow");
    expect(nearest("stgaes", ["stages", "flags"])).toBe("stages");
    expect(nearest("MaxTTL", ["ttl", "maxTtl"])).toBe("maxTtl");
    expect(nearest("minLen", ["minLength"])).toBe("minLength");
    expect(nearest("colour", ["allow", "ttl"])).toBeUndefined();
    expect(nearest("x", [])).toBeUndefined();
  });
});

describe("secrets", () => {
  it("recognises tokens and redacts them wherever they appear", () => {
    const token = `ghp_${"a1B2".repeat(9)}`;
    expect(secretKind(`my ${token}`)).toBe("a GitHub token");
    expect(secretKind(`glpat-${"x".repeat(20)}`)).toBe("a GitLab token");
    expect(secretKind("xoxb-1234567890-abcdef")).toBe("a Slack token");
    expect(secretKind("https://hooks.slack.com/services/T0/B0/XYZ")).toBe("a Slack webhook URL");
    expect(secretKind("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----")).toBe(
      "a private key",
    );
    expect(secretKind("ghp_ tokens go in OPTOUT_GITHUB_TOKEN")).toBeUndefined();
    expect(redactSecrets(`a ${token} b`)).toBe("a [redacted] b");
  });
});

describe("formatPath", () => {
  it("reads like the file", () => {
    expect(formatPath(["stages", "lint", "allow", 0])).toBe("stages.lint.allow[0]");
    expect(formatPath(["stages", "ci.lint"])).toBe('stages["ci.lint"]');
    expect(formatPath(["groups", "release-managers"])).toBe("groups.release-managers");
    expect(formatPath([])).toBe("");
  });
});
