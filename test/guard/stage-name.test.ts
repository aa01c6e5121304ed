import { describe, expect, it } from "vitest";
import { jobStageName } from "../../src/commands/guard/stage-name.js";

describe("jobStageName", () => {
  it("strips the index GitLab gives each copy of a parallel job", () => {
    expect(jobStageName("lint 1/2")).toBe("lint");
    expect(jobStageName("lint 12/12")).toBe("lint");
    expect(jobStageName("security-scan 3/10")).toBe("security-scan");
  });

  it("strips the values GitLab appends to a parallel:matrix job's name", () => {
    expect(jobStageName("lint: [node-20]")).toBe("lint");
    expect(jobStageName("deploy: [aws, monitoring]")).toBe("deploy");
    expect(jobStageName("e2e: [registry.example.com/builder:1.0, linux]")).toBe("e2e");
  });

  it("leaves every other name as it is", () => {
    for (const name of [
      "lint",
      "e2e",
      "lint-2/2", // no space: part of the name, not GitLab's index
      "1/2", // nothing before the index: not a parallel copy
      "lint 1/2 extra",
      "docs: build", // a colon without GitLab's brackets
      ": [a]",
      "build [x]",
    ]) {
      expect(jobStageName(name), name).toBe(name);
    }
  });

  it("strips one suffix only, the one GitLab added last", () => {
    expect(jobStageName("lint 1/2 3/4")).toBe("lint 1/2");
    expect(jobStageName("lint: [a]: [b]")).toBe("lint: [a]");
  });
});
