/**
 * The shapes of credentials optout must never store or print: one list, used to redact output
 * (ui/redact.ts), to refuse secrets in the policy file (policy/secrets.ts) and to refuse them in
 * free text that goes into signed, append-only records (--reason, --ticket, --note).
 *
 * Each shape names where its format is documented. Lengths are lower bounds, not exact lengths:
 * a token cut short when pasted is still a leak, and forges have lengthened tokens before.
 * Prose that only names a prefix ("put the ghp_ token in OPTOUT_GITHUB_TOKEN") does not match.
 */

export interface TokenShape {
  /** What it is, for messages: "a GitHub token". Never the token itself. */
  what: string;
  /** Where the format is documented. */
  source: string;
  /** Unanchored, case-sensitive, not global: tested with `.test`, copied with `g` to replace. */
  pattern: RegExp;
}

export const tokenShapes: readonly TokenShape[] = [
  {
    // Personal access (ghp_), OAuth (gho_), user-to-server (ghu_), server-to-server (ghs_, which
    // Actions' GITHUB_TOKEN is) and refresh (ghr_) tokens: today 36 characters after the prefix,
    // announced to grow up to 255.
    what: "a GitHub token",
    source:
      "https://github.blog/changelog/2021-03-31-authentication-token-format-updates-are-generally-available/",
    pattern: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9_]{20,}/,
  },
  {
    // Fine-grained personal access tokens: github_pat_ + 22 characters, "_", 59 characters.
    what: "a GitHub token",
    source:
      "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/about-authentication-to-github#githubs-token-formats",
    pattern: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{20,}/,
  },
  {
    // The installation-token format GitHub Apps received before ghs_: "v1." and 40 hex digits.
    what: "a GitHub token",
    source:
      "https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/",
    pattern: /(?<![A-Za-z0-9_.])v1\.[0-9a-f]{40}(?![0-9a-f])/,
  },
  {
    // Every prefix in GitLab's "Token prefixes" table: personal, project, group and impersonation
    // tokens (glpat-), OAuth application secrets (gloas-), deploy tokens (gldt-), runner
    // authentication tokens (glrt-, glrtr-), CI/CD job tokens (glcbt-), trigger tokens (glptt-),
    // feed tokens (glft-), incoming mail tokens (glimt-), agent for Kubernetes tokens (glagent-),
    // workspace tokens (glwt-), SCIM tokens (glsoat-) and feature flags client tokens (glffct-).
    // Newer tokens carry a "."-separated routing part, so "." is part of the body.
    what: "a GitLab token",
    source: "https://docs.gitlab.com/security/tokens/#token-prefixes",
    pattern:
      /(?<![A-Za-z0-9_-])(?:glpat|gloas|gldt|glrtr|glrt|glcbt|glptt|glft|glimt|glagent|glwt|glsoat|glffct)-[A-Za-z0-9_.-]{20,}/,
  },
  {
    // Bot (xoxb-), user (xoxp-), legacy workspace (xoxa-), refresh (xoxr-, xoxe-), session (xoxs-)
    // and other xox tokens; app-level tokens (xapp-).
    what: "a Slack token",
    source: "https://docs.slack.dev/authentication/tokens/",
    pattern: /(?<![A-Za-z0-9_-])(?:xox[abeoprs]|xapp)-[A-Za-z0-9-]{10,}/,
  },
  {
    // Incoming webhooks, and workflow webhooks/triggers: the URL is the credential.
    what: "a Slack webhook URL",
    source: "https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks/",
    pattern: /https?:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9/_-]{8,}/,
  },
  {
    // PEM and OpenSSH private keys (RSA, EC, DSA, OPENSSH, ENCRYPTED, plain PKCS#8): up to the
    // END line, or to the end of the text when the paste was cut.
    what: "a private key",
    source: "https://www.rfc-editor.org/rfc/rfc7468#section-10",
    pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/,
  },
];

const everyShape = tokenShapes.map((s) => new RegExp(s.pattern.source, "g"));

/** What kind of credential `text` holds ("a GitHub token"), or undefined when none. */
export function tokenKind(text: string): string | undefined {
  return tokenShapes.find((s) => s.pattern.test(text))?.what;
}

/** `text` with every credential-shaped part replaced by `replacement`. */
export function redactTokens(text: string, replacement: string): string {
  let out = text;
  for (const pattern of everyShape) out = out.replace(pattern, replacement);
  return out;
}
