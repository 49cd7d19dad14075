import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The summary line is what CI reads, so the reporter is tested by running Vitest on fixtures.
const CONFIG = fileURLToPath(new URL("./fixtures/reporter/vitest.config.ts", import.meta.url));
const VITEST = fileURLToPath(new URL("../../../node_modules/vitest/vitest.mjs", import.meta.url));

function runFixture(file: string, env: Record<string, string> = {}) {
  const { REQUIRE_ALL: _, ...inherited } = process.env;
  const result = spawnSync(process.execPath, [VITEST, "run", "--config", CONFIG, file], {
    encoding: "utf8",
    env: { ...inherited, CHROMIUM_PATH: "/nonexistent/chromium", ...env },
  });
  const summary = result.stdout.split("\n").find((line) => line.startsWith("tests: "));
  return { status: result.status, stdout: result.stdout, summary };
}

describe("summary reporter", { timeout: 120_000 }, () => {
  it("counts tests whose beforeAll threw as failed (not run), and the run fails", () => {
    const run = runFixture("setup-throws.fixture.ts");
    expect(run.summary).toBe("tests: 1 passed, 2 failed, 0 skipped");
    expect(run.stdout).toContain("not run (their set-up or an earlier step failed), counted as failed: 2");
    expect(run.stdout).toContain("a suite whose set-up throws > first test that never runs");
    expect(run.status).not.toBe(0);
  });

  it("shows a skip for a missing environment as a skip, naming what is missing, when REQUIRE_ALL is unset", () => {
    const run = runFixture("env-skip.fixture.ts");
    expect(run.summary).toBe("tests: 1 passed, 0 failed, 1 skipped");
    expect(run.status).toBe(0);
  });

  it("fails the run under REQUIRE_ALL=1 when a test was skipped, naming the test and what was missing", () => {
    const run = runFixture("env-skip.fixture.ts", { REQUIRE_ALL: "1" });
    expect(run.summary).toBe("tests: 1 passed, 1 failed, 0 skipped");
    expect(run.stdout).toContain("REQUIRE_ALL=1: 1 skipped tests counted as failed");
    expect(run.stdout).toMatch(/a browser suite \[missing: Chromium is not installed[^\]]*\] > opens the console/);
    expect(run.status).not.toBe(0);
  });
});
