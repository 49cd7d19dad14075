import { parseArgs } from "node:util";
import { percentile } from "@switchboard/testkit/stats";
import { Lab, labMissing } from "./lab.ts";
import { changePropagation } from "./scenarios/change-propagation.ts";
import type { Figures, Scenario } from "./scenarios/context.ts";
import { controlPlaneDown } from "./scenarios/control-plane-down.ts";
import { convergence } from "./scenarios/convergence.ts";
import { failover } from "./scenarios/failover.ts";
import { revocation } from "./scenarios/revocation.ts";
import { roaming } from "./scenarios/roaming.ts";
import { sharedAddressSpace } from "./scenarios/shared-address-space.ts";
import { threeSwitches } from "./scenarios/three-switches.ts";

/**
 * `pnpm test:lab`: builds a lab (2 switches, 4 hosts), runs every scenario in order against it
 * (each builds on the state the previous one left), tears it down, and ends with one line that
 * other tools read:
 *   lab: <passed>/<total> scenarios, convergence p50 <ms> ms p99 <ms> ms, failover max <s> s
 * A failed scenario does not stop the others; the exit code says whether all passed. The
 * lab's logs are kept (and their folder printed) when something failed.
 */

const SCENARIOS: readonly Scenario[] = [
  sharedAddressSpace,
  convergence,
  roaming,
  failover,
  revocation,
  controlPlaneDown,
  threeSwitches,
  changePropagation,
];
const SCENARIO_TIMEOUT_MS = 180_000;

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`scenario timed out after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** `--only 1,4` runs a subset (for working on one scenario), `--keep-logs` keeps the lab's files; CI runs them all. */
function options(argv: readonly string[]): { scenarios: readonly Scenario[]; keepLogs: boolean } {
  const { values } = parseArgs({
    args: [...argv],
    options: { only: { type: "string" }, "keep-logs": { type: "boolean" } },
    strict: true,
  });
  const keepLogs = values["keep-logs"] === true;
  if (values.only === undefined) return { scenarios: SCENARIOS, keepLogs };
  const numbers = values.only.split(",").map(Number);
  if (numbers.some((n) => !Number.isInteger(n) || n < 1 || n > SCENARIOS.length)) {
    throw new Error(`--only takes scenario numbers from 1 to ${SCENARIOS.length}, e.g. --only 1,4`);
  }
  return { scenarios: SCENARIOS.filter((_, i) => numbers.includes(i + 1)), keepLogs };
}

async function main(): Promise<number> {
  const { scenarios, keepLogs: keepLogsAlways } = options(process.argv.slice(2).filter((arg) => arg !== "--"));
  const missing = labMissing();
  if (missing) {
    say(`lab: SKIPPED, ${scenarios.length} scenarios not run: ${missing}`);
    return 0;
  }
  const began = Date.now();
  const figures: Figures = { convergenceMs: [], failover: [] };
  let passed = 0;
  let lab: Lab | undefined;
  try {
    lab = await Lab.up({ switches: 2, hosts: 4, consolePort: 0, log: (line) => say(`  ${line}`) });
    say(`lab up in ${((Date.now() - began) / 1000).toFixed(1)} s (files in ${lab.state.dir})`);
    for (const scenario of scenarios) {
      const i = SCENARIOS.indexOf(scenario);
      const started = Date.now();
      const current = lab;
      try {
        await withTimeout(
          scenario.run({ lab: current, figures, log: (line) => say(`    ${line}`) }),
          SCENARIO_TIMEOUT_MS,
        );
        passed += 1;
        say(`  ok   ${i + 1}. ${scenario.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      } catch (error) {
        say(`  FAIL ${i + 1}. ${scenario.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
        say(`       ${error instanceof Error ? error.message : String(error)}`.replaceAll("\n", "\n       "));
      }
    }
  } catch (error) {
    say(`lab: could not start: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    if (lab) {
      const keepLogs = keepLogsAlways || passed < scenarios.length;
      await lab.down({ keepLogs });
      if (keepLogs) say(`lab logs kept in ${lab.state.dir}`);
    }
  }
  say(`lab suite took ${((Date.now() - began) / 1000).toFixed(1)} s`);
  const p50 = figures.convergenceMs.length ? percentile(figures.convergenceMs, 50) : undefined;
  const p99 = figures.convergenceMs.length ? percentile(figures.convergenceMs, 99) : undefined;
  const failoverMax = Math.max(0, ...figures.failover.filter((f) => f.kind !== "clean stop").map((f) => f.seconds));
  const cleanMax = Math.max(0, ...figures.failover.filter((f) => f.kind === "clean stop").map((f) => f.seconds));
  if (figures.failoverTargetS !== undefined) say(`failover after a clean stop: max ${cleanMax.toFixed(1)} s`);
  const verdict = (ok: boolean | undefined) => (ok === undefined ? "not measured" : ok ? "met" : "MISSED");
  say(
    [
      "targets:",
      `convergence p99 < 1000 ms ${verdict(p99 === undefined ? undefined : p99 < 1000)},`,
      `failover <= ${figures.failoverTargetS ?? "-"} s ${verdict(figures.failoverTargetS === undefined ? undefined : failoverMax <= figures.failoverTargetS)},`,
      `clean stop < 3 s ${verdict(figures.failoverTargetS === undefined ? undefined : cleanMax < 3)}`,
    ].join(" "),
  );
  say(
    `lab: ${passed}/${scenarios.length} scenarios, convergence p50 ${p50 ?? "-"} ms p99 ${p99 ?? "-"} ms, failover max ${failoverMax.toFixed(1)} s`,
  );
  return passed === scenarios.length ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`lab: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
