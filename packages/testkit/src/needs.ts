import { describe, it, type TestOptions } from "vitest";
import { missing, type Need, requireAll } from "./env.ts";

/**
 * `describe` and `it` for tests that need something from the machine. Where it is missing the
 * tests are skipped with the reason in their title (`[missing: needs root]`), so a local run
 * shows why; under REQUIRE_ALL=1 the summary reporter counts every skip as a failure and names it.
 */
type Body = () => void | Promise<void>;

function marked(title: string, reason: string | undefined): string {
  return reason === undefined ? title : `${title} [missing: ${reason}]`;
}

function warnOnce(reason: string): void {
  if (!requireAll) process.stderr.write(`\n*** SKIPPED, ${reason} ***\n`);
}

export function describeNeeding(needs: Need[], title: string, body: () => void, options?: TestOptions): void {
  const reason = missing(...needs);
  if (reason === undefined) {
    describe(title, options ?? {}, body);
    return;
  }
  warnOnce(reason);
  describe.skip(marked(title, reason), options ?? {}, body);
}

export function itNeeding(needs: Need[], title: string, body: Body, options?: TestOptions | number): void {
  const reason = missing(...needs);
  if (reason === undefined) {
    it(title, typeof options === "number" ? { timeout: options } : (options ?? {}), body);
    return;
  }
  it.skip(marked(title, reason), body);
}
