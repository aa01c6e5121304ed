/**
 * init's pure parts: provider detection from remote URLs and CI variables, the allowed_signers
 * merge, and the questions asked on a terminal (answered here by a scripted prompter).
 */
import { describe, expect, it } from "vitest";
import {
  askSetup,
  type Choice,
  defaultSetup,
  type Prompter,
  type SetupContext,
} from "../../src/commands/init/answers.js";
import { providerFromEnv, providerFromHost, remoteHost } from "../../src/scaffold/detect.js";
import { allowedSignersText, hasKey, principalForKey, signerLine } from "../../src/scaffold/policy.js";

describe("detection", () => {
  it.each([
    ["git@github.com:acme/shop.git", "github.com", "github"],
    ["https://github.com/acme/shop", "github.com", "github"],
    ["ssh://git@ssh.github.com:443/acme/shop.git", "ssh.github.com", "github"],
    ["git@gitlab.com:acme/platform/shop.git", "gitlab.com", "gitlab"],
    ["https://gitlab.example.com/acme/shop.git", "gitlab.example.com", "gitlab"],
    ["https://git.example.com/acme/shop.git", "git.example.com", undefined],
    ["https://notgitlab.example.com/acme/shop.git", "notgitlab.example.com", undefined],
    ["/srv/git/shop.git", undefined, undefined],
    ["file:///srv/git/shop.git", undefined, undefined],
    ["../shop.git", undefined, undefined],
  ])("%s → host %s, provider %s", (url, host, provider) => {
    expect(remoteHost(url)).toBe(host);
    expect(providerFromHost(remoteHost(url))).toBe(provider);
  });

  it("reads the CI it runs in", () => {
    expect(providerFromEnv({ GITHUB_ACTIONS: "true" })).toBe("github");
    expect(providerFromEnv({ GITLAB_CI: "true" })).toBe("gitlab");
    expect(providerFromEnv({ CI: "true" })).toBeUndefined();
  });
});

describe("allowed_signers", () => {
  const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE6ttNUz2wkd+dkzJ1GQRBmXb4IvmKpq3OgmhyDkYvKz";
  const other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIk2h3y3mM6bXc3yJ0bYhGkS7H2c9k9nO2bqQ0c3m1Xa";

  it("a new file gets a header and the line", () => {
    const text = allowedSignersText(undefined, signerLine("dana", key));
    expect(text).toMatch(/^# Keys that may sign optout ledger records/);
    expect(text.endsWith(`\ndana ${key}\n`)).toBe(true);
  });

  it("an existing file keeps every line; the key is appended once", () => {
    const existing = `lee ${other}`;
    const once = allowedSignersText(existing, signerLine("dana", key));
    expect(once).toBe(`lee ${other}\ndana ${key}\n`);
    expect(allowedSignersText(once, signerLine("dana", key))).toBe(once);
  });

  it("finds a key's principal, with options, and ignores comments", () => {
    const text = `# dana ${key}\nlee,ops ${other}\ndana,dana@example.com namespaces="optout-audit" ${key} laptop\n`;
    expect(principalForKey(text, key)).toBe("dana");
    expect(principalForKey(text, other)).toBe("lee");
    expect(hasKey(`# dana ${key}\n`, key)).toBe(false);
  });
});

/** Answers questions in order; fails on a question it was not given an answer for. */
function scripted(answers: (string | boolean | string[])[]): Prompter & { asked: string[] } {
  const asked: string[] = [];
  const next = <T>(message: string): T => {
    asked.push(message);
    if (!answers.length) throw new Error(`unexpected question: ${message}`);
    return answers.shift() as T;
  };
  return {
    asked,
    input: async (message, def, validate) => {
      const a = next<string>(message);
      const v = a === "" ? (def ?? "") : a;
      const ok = validate ? validate(v) : true;
      if (ok !== true) throw new Error(`${message} rejected ${JSON.stringify(v)}: ${ok}`);
      return v;
    },
    select: async <T extends string>(message: string, choices: Choice<T>[], def?: T) => {
      const a = next<string>(message);
      const v = (a === "" ? def : a) as T;
      if (!choices.some((c) => c.value === v)) throw new Error(`${message}: ${v} is not a choice`);
      return v;
    },
    confirm: async (message) => next<boolean>(message),
    checkbox: async <T extends string>(message: string) => next<T[]>(message),
  };
}

const ctx = (over: Partial<SetupContext> = {}): SetupContext => ({
  detected: {
    provider: "github",
    providerFrom: "origin is on github.com",
    repo: "acme/shop",
    localRepo: "acme/shop",
  },
  providerFixed: false,
  key: {
    path: "/home/dana/.ssh/id_ed25519.pub",
    publicLine: "ssh-ed25519 AAAA",
    source: "~/.ssh/id_ed25519",
  },
  principal: "dana",
  flags: {},
  ...over,
});

describe("questions on a terminal", () => {
  it("asks provider, stages with their mechanism, who, TTLs and channels", async () => {
    const p = scripted([
      "", // provider: the detected github
      "lint,security-scan,e2e",
      "status",
      "", // context ci/lint
      "variable",
      "", // OPTOUT_SKIP_SECURITY_SCAN
      "guard",
      "", // principal dana
      true, // add the key
      "user:dana,team:acme/oncall",
      "2h",
      "12h",
      ["slack", "issue"],
      "", // OPTOUT_SLACK_WEBHOOK_URL
      "42",
    ]);
    const setup = await askSetup(p, ctx());
    expect(setup).toEqual({
      provider: "github",
      repo: "acme/shop",
      stages: [
        { name: "lint", mechanism: "status", context: "ci/lint" },
        { name: "security-scan", mechanism: "variable", variable: "OPTOUT_SKIP_SECURITY_SCAN" },
        { name: "e2e", mechanism: "guard" },
      ],
      allow: ["user:dana", "team:acme/oncall"],
      ttl: "2h",
      maxTtl: "12h",
      notify: [
        { type: "slack", webhookUrlEnv: "OPTOUT_SLACK_WEBHOOK_URL" },
        { type: "issue", number: 42 },
      ],
      principal: "dana",
      addKey: true,
    });
  });

  it("on plain git: no provider question with --provider, no mechanism question, no issue channel", async () => {
    const p = scripted(["", "", true, "", "", "", []]);
    const setup = await askSetup(
      p,
      ctx({
        providerFixed: true,
        detected: { provider: "git", providerFrom: "--provider", localRepo: "srv/shop" },
        principal: "dana@example.com",
      }),
    );
    expect(setup.stages).toEqual([{ name: "lint", mechanism: "guard" }]);
    // A URL that names no owner/name still gives the policy a repo: records must not depend on it.
    expect(setup.repo).toBe("srv/shop");
    expect(setup.allow).toEqual(["user:dana@example.com"]);
    expect(p.asked.some((q) => /^Provider|waived/.test(q))).toBe(false);
  });

  it("rejects a max TTL shorter than the default one", async () => {
    const p = scripted(["git", "", "", false, "", "8h", "4h"]);
    await expect(askSetup(p, ctx())).rejects.toThrow(/at least the default TTL \(8h\)/);
  });

  it("without a terminal: one lint stage, allowed to the user, status on a forge", () => {
    expect(defaultSetup(ctx())).toMatchObject({
      stages: [{ name: "lint", mechanism: "status", context: "ci/lint" }],
      allow: ["user:dana"],
      addKey: true,
    });
    expect(() => defaultSetup(ctx({ flags: { principal: "dana smith" } }))).toThrow(
      /cannot be an allowed_signers principal/,
    );
  });
});
