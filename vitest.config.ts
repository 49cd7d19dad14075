import { defineConfig } from "vitest/config";

// One run for the whole tree. Lab and browser suites live under e2e/ and have their own commands.
export default defineConfig({
  test: {
    include: ["apps/*/test/**/*.test.{ts,tsx}", "packages/*/test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default", "./vitest.summary-reporter.ts"],
  },
});
