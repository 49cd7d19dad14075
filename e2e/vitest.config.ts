import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Browser tests of the console (pnpm test:e2e): real API processes, real agents, Debian's Chromium.
// Kept apart from the root config so `pnpm test` stays the unit and integration suite.
export default defineConfig({
  root: fileURLToPath(new URL("..", import.meta.url)),
  test: {
    include: ["e2e/console/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    reporters: ["default", "./vitest.summary-reporter.ts"],
  },
});
