import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { loadPolicy } from "../../src/policy/load.js";

// Counts imports of cosmiconfig: JSON policies must not pay for it (~30 ms of startup).
const imported = vi.hoisted(() => ({ count: 0 }));
vi.mock("cosmiconfig", async (importOriginal) => {
  imported.count++;
  return importOriginal();
});

describe("the JSON fast path", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "optout-fast-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const policy = { version: 1, stages: { e2e: { mechanism: "guard", allow: ["user:dana"] } } };

  // One test, in order: the module cache makes the first import the only one counted.
  it("reads .optoutrc.json, .optoutrc and package.json without cosmiconfig; YAML with it", async () => {
    writeFileSync(path.join(dir, ".optoutrc.json"), JSON.stringify(policy));
    writeFileSync(path.join(dir, ".optoutrc"), JSON.stringify(policy));
    writeFileSync(path.join(dir, "package.json"), JSON.stringify({ optout: policy }));
    for (const file of [".optoutrc.json", ".optoutrc", "package.json"]) {
      await loadPolicy({ cwd: dir, configPath: file });
    }
    expect(imported.count).toBe(0);
    writeFileSync(path.join(dir, "p.yaml"), "version: 1\n");
    await loadPolicy({ cwd: dir, configPath: "p.yaml" });
    expect(imported.count).toBe(1);
  });
});
