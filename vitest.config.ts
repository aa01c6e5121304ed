import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Tests spawn git, ssh-keygen and the built CLI; two cores, so keep concurrency modest.
    maxWorkers: 2,
    globalSetup: ["test/global-setup.ts"],
  },
});
