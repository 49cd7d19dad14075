import type { Reporter, TestCase, TestModule } from "vitest/node";

/**
 * Ends the run with one plain line, `tests: N passed, N failed, N skipped`, that CI tools read.
 * - A skip is never a pass.
 * - A test that was meant to run but never did (its `beforeAll` threw, its file failed to load)
 *   is counted as failed, "not run": a broken set-up must not look like a polite skip.
 * - With REQUIRE_ALL=1 (CI) every skipped test is a failure too, named in the output: a machine
 *   that lacks root, OpenVPN, Chromium or PostgreSQL cannot pass by skipping what needs them.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>) {
    const requireAll = process.env.REQUIRE_ALL === "1";
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const notRun: string[] = [];
    const skipped: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") counts.passed++;
        else if (state === "failed") counts.failed++;
        else if (test.options.mode === "run" || test.options.mode === "only") notRun.push(nameOf(test));
        else skipped.push(nameOf(test));
      }
      if (module.state() === "failed" && !module.children.size) notRun.push(`${module.moduleId} (did not load)`);
    }
    counts.failed += notRun.length;
    if (requireAll) counts.failed += skipped.length;
    else counts.skipped += skipped.length;

    const out: string[] = [];
    if (notRun.length)
      out.push(
        `not run (their set-up or an earlier step failed), counted as failed: ${notRun.length}`,
        ...list(notRun),
      );
    if (requireAll && skipped.length) {
      out.push(`REQUIRE_ALL=1: ${skipped.length} skipped tests counted as failed`, ...list(skipped));
    }
    out.push(`tests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
    process.stdout.write(`\n${out.join("\n")}\n`);
    // Vitest sets a failing exit code only for failures it counted itself; ours count too.
    if (notRun.length || (requireAll && skipped.length)) process.exitCode = 1;
  }
}

function nameOf(test: TestCase): string {
  return `${test.module.relativeModuleId} > ${test.fullName}`;
}

function list(names: readonly string[], max = 30): string[] {
  const shown = names.slice(0, max).map((name) => `  - ${name}`);
  return names.length > max ? [...shown, `  ... and ${names.length - max} more`] : shown;
}
