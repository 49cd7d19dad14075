import { defineConfig } from "vitest/config";

// One run for the whole tree. Lab and browser suites live under e2e/ and have their own commands.
export default defineConfig({
  test: {
    include: ["apps/*/test/**/*.test.{ts,tsx}", "packages/*/test/**/*.test.ts", "packaging/test/**/*.test.ts"],
    // Generous: the suite must pass on a busy 2-core machine, where one PGlite database takes
    // seconds to migrate. These catch hangs; no test asserts on elapsed time.
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ["default", "./vitest.summary-reporter.ts"],
  },
});
