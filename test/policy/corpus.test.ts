import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, ExitCode } from "../../src/errors.js";
import { loadPolicy } from "../../src/policy/load.js";
import { PolicyErrors } from "../../src/policy/problems.js";
import { type BadPolicy, badPolicies, corpusSecrets } from "./corpus.js";

const root = path.resolve(import.meta.dirname, "../..");

async function failure(file: string, provider?: BadPolicy["provider"]): Promise<PolicyErrors> {
  const err = await loadPolicy({ configPath: file, cwd: root, ...(provider ? { provider } : {}) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `${file} should be refused`).toBeInstanceOf(PolicyErrors);
  return err as PolicyErrors;
}

describe("malformed policies", () => {
  it("has a corpus of at least 20 files, each present", () => {
    expect(badPolicies.length).toBeGreaterThanOrEqual(20);
    for (const { file } of badPolicies) expect(existsSync(path.join(root, file)), file).toBe(true);
  });

  it.each(badPolicies)("$file", async ({ file, provider, expect: expected }) => {
    const err = await failure(file, provider);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.exitCode).toBe(ExitCode.usage);
    expect(err.message.startsWith(`${file}: `), err.message).toBe(true);
    expect(err.message).toMatch(expected);
    expect(err.lines()[0]).toBe(err.message);
  });

  it("never prints a stack trace, a multi-line message or a secret", async () => {
    for (const { file, provider } of badPolicies) {
      const err = await failure(file, provider);
      const printed = [...err.lines(), err.hint ?? ""].join("\n");
      expect(err.message).not.toContain("\n");
      expect(printed).not.toMatch(/\n\s+at |\.ts:\d+|node_modules|ZodError|Invalid input/);
      for (const secret of corpusSecrets) expect(printed).not.toContain(secret);
    }
  });

  it("still checks the fixture files' secrets are really in them", () => {
    // Guards the test above: a fixture edited to drop its secret would make it vacuous.
    const text = badPolicies.map(({ file }) => readFileSync(path.join(root, file), "utf8")).join("\n");
    for (const secret of corpusSecrets) expect(text).toContain(secret);
  });
});
