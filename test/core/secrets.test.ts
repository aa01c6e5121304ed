/**
 * The one list of token shapes: each documented shape is caught wherever it sits in a text, and
 * text that only looks close (a prefix in prose, too short, glued to a word, wrong case) is not.
 * Tokens are assembled at run time so that no scanner mistakes this file for a leak.
 */
import { describe, expect, it } from "vitest";
import { redactTokens, tokenKind, tokenShapes } from "../../src/core/secrets.js";
import { redactSecrets, secretKind } from "../../src/policy/secrets.js";
import { redact } from "../../src/ui/redact.js";

const base62 = (n: number) => "aZ09bY18cX27dW36eV45".repeat(Math.ceil(n / 20)).slice(0, n);
const hex = (n: number) => "0123456789abcdef".repeat(Math.ceil(n / 16)).slice(0, n);

const caught: Array<[string, string]> = [
  ...["ghp", "gho", "ghu", "ghs", "ghr"].map(
    (p) => [`${p}_${base62(36)}`, "a GitHub token"] as [string, string],
  ),
  [`github_pat_${base62(22)}_${base62(59)}`, "a GitHub token"],
  [`v1.${hex(40)}`, "a GitHub token"],
  ...[
    "glpat",
    "gloas",
    "gldt",
    "glrt",
    "glrtr",
    "glcbt",
    "glptt",
    "glft",
    "glimt",
    "glagent",
    "glwt",
    "glsoat",
    "glffct",
  ].map((p) => [`${p}-${base62(20)}`, "a GitLab token"] as [string, string]),
  // GitLab's routable tokens: a longer body with "."-separated parts.
  [`glpat-${base62(27)}.01.${base62(9)}`, "a GitLab token"],
  ...["xoxb", "xoxp", "xoxa", "xoxr", "xoxs", "xoxe", "xoxo", "xapp"].map(
    (p) => [`${p}-1234567890-${base62(24)}`, "a Slack token"] as [string, string],
  ),
  [`https://hooks.slack.com/services/T0${base62(8)}/B0${base62(8)}/${base62(24)}`, "a Slack webhook URL"],
  [`https://hooks.slack.com/workflows/T0${base62(8)}/A0${base62(8)}/1/${base62(24)}`, "a Slack webhook URL"],
  [`-----BEGIN OPENSSH PRIVATE KEY-----\n${base62(70)}\n-----END OPENSSH PRIVATE KEY-----`, "a private key"],
  [`-----BEGIN RSA PRIVATE KEY-----\n${base62(64)}`, "a private key"],
  [`-----BEGIN PRIVATE KEY-----\n${base62(64)}\n-----END PRIVATE KEY-----`, "a private key"],
];

const nearMisses = [
  "put the ghp_ token in OPTOUT_GITHUB_TOKEN",
  `ghp_${base62(19)}`, // too short to be a token
  `ghx_${base62(36)}`, // not a GitHub prefix
  `GHP_${base62(36)}`, // prefixes are lower case
  `xghp_${base62(36)}`, // glued to a word: not a token boundary
  `github_pat_${base62(10)}`,
  `glpat-${base62(19)}`,
  `glpat_${base62(20)}`, // GitLab's separator is "-"
  `myglpat-${base62(20)}`,
  `glxyz-${base62(20)}`,
  "xoxb-123",
  `xoxz-1234567890-${base62(24)}`,
  "https://hooks.slack.com/services/",
  "https://example.com/services/T0/B0/abcdefghijkl",
  `v1.${hex(39)}`,
  `v2.${hex(40)}`,
  "-----BEGIN PUBLIC KEY-----",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice",
  "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  "linter crashes on node 22, INC-4411",
];

describe("token shapes", () => {
  it("every shape names where its format is documented", () => {
    for (const s of tokenShapes) expect(s.source).toMatch(/^https:\/\/\S+$/);
  });

  it.each(caught)("catches %s", (token, what) => {
    expect(tokenKind(token)).toBe(what);
    expect(tokenKind(`see ${token}, thanks`)).toBe(what);
    // A private key cut before its END line is redacted to the end of the text.
    const after = token.includes("-----END") || !token.includes("-----BEGIN") ? " b" : "";
    expect(redactTokens(`a ${token} b`, "***")).toBe(`a ***${after}`);
  });

  it.each(nearMisses)("lets %s through", (text) => {
    expect(tokenKind(text)).toBeUndefined();
    expect(redactTokens(text, "***")).toBe(text);
  });

  it("is the list the policy check and the output redaction use", () => {
    for (const [token, what] of caught) {
      expect(secretKind(token)).toBe(what);
      expect(redactSecrets(`x ${token}`)).toBe("x [redacted]");
      expect(redact(`x ${token}`, {})).toBe("x ***");
    }
    for (const text of nearMisses) expect(redact(text, {})).toBe(text);
  });

  it("redacts every token in a text, not only the first", () => {
    const a = `ghp_${base62(36)}`;
    const b = `glpat-${base62(20)}`;
    expect(redactTokens(`${a} and ${b} and ${a}`, "***")).toBe("*** and *** and ***");
  });
});
