import { parseArgs } from "node:util";
import { requireAll } from "@switchboard/testkit/env";
import { percentile } from "@switchboard/testkit/stats";
import { guardExit } from "./exit-guard.ts";
import { downLab, downLabSync, Lab, labMissing, MAX_REGISTERED_HOSTS } from "./lab.ts";
import { changePropagation } from "./scenarios/change-propagation.ts";
import type { Figures, Scenario } from "./scenarios/context.ts";
import { controlPlaneDown } from "./scenarios/control-plane-down.ts";
import { convergence } from "./scenarios/convergence.ts";
import { failover } from "./scenarios/failover.ts";
import { revocation } from "./scenarios/revocation.ts";
import { roaming } from "./scenarios/roaming.ts";
import { sharedAddressSpace } from "./scenarios/shared-address-space.ts";
import { threeSwitches } from "./scenarios/three-switches.ts";
import type { LabState } from "./state.ts";

/**
 * `pnpm test:lab`: builds a lab (2 switches, 4 hosts), runs every scenario in order against it
 * (each builds on the state the previous one left), tears it down, and ends with one line that
 * other tools read:
 *   lab: <passed>/<total> scenarios, convergence p50 <ms> ms p99 <ms> ms, failover max <s> s
 * A failed scenario does not stop the others; the exit code says whether all passed. The
 * lab's logs are kept (and their folder printed) when something failed.
 *
 * It always ends with that line or a failing one (`lab: ... NOT FINISHED: <why>`, exit code not 0):
 * a signal (SIGTERM, SIGINT, SIGHUP), an uncaught exception or an unhandled rejection, or an
 * event loop that empties before the run is done takes the lab down and says so (exit-guard.ts).
 * Where the lab cannot run it prints `lab: SKIPPED ...` and exits 0, or 1 under REQUIRE_ALL=1.
 *
 * At scale (not what CI runs): `--registered-hosts N` (or LAB_REGISTERED_HOSTS=N) registers N more
 * hosts through the API's bulk import before the clients connect, none of which ever connects,
 * and `--hosts M` connects M real clients instead of 4 (scenarios use host1-host4). E.g. the
 * convergence at 1,000 registered hosts: `pnpm test:lab --only 1,2 --hosts 24 --registered-hosts 1000`.
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

const LAB_UP_TIMEOUT_MS = 300_000;

function withTimeout<T>(promise: Promise<T>, ms: number, what = "the scenario"): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface Options {
  scenarios: readonly Scenario[];
  keepLogs: boolean;
  hosts: number;
  registeredHosts: number;
}

function whole(text: string | undefined, fallback: number, min: number, max: number, name: string): number {
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`${name} must be an integer from ${min} to ${max}`);
  return value;
}

/** `--only 1,4` runs a subset (for working on one scenario), `--keep-logs` keeps the lab's files; CI runs them all. */
function options(argv: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      only: { type: "string" },
      "keep-logs": { type: "boolean" },
      hosts: { type: "string" },
      "registered-hosts": { type: "string" },
    },
    strict: true,
  });
  const keepLogs = values["keep-logs"] === true;
  const hosts = whole(values.hosts, 4, 4, 80, "--hosts");
  const registeredHosts = whole(
    values["registered-hosts"] ?? process.env.LAB_REGISTERED_HOSTS,
    0,
    0,
    MAX_REGISTERED_HOSTS,
    "--registered-hosts (LAB_REGISTERED_HOSTS)",
  );
  if (values.only === undefined) return { scenarios: SCENARIOS, keepLogs, hosts, registeredHosts };
  const numbers = values.only.split(",").map(Number);
  if (numbers.some((n) => !Number.isInteger(n) || n < 1 || n > SCENARIOS.length)) {
    throw new Error(`--only takes scenario numbers from 1 to ${SCENARIOS.length}, e.g. --only 1,4`);
  }
  return { scenarios: SCENARIOS.filter((_, i) => numbers.includes(i + 1)), keepLogs, hosts, registeredHosts };
}

/** What the run has found so far: the summary line is made from it, also when the run is cut short. */
interface Progress {
  total: number;
  passed: number;
  figures: Figures;
}

function summaryLine({ total, passed, figures }: Progress, unfinished?: string): string {
  const p50 = figures.convergenceMs.length ? percentile(figures.convergenceMs, 50) : undefined;
  const p99 = figures.convergenceMs.length ? percentile(figures.convergenceMs, 99) : undefined;
  const failoverMax = Math.max(0, ...figures.failover.filter((f) => f.kind !== "clean stop").map((f) => f.seconds));
  const line = `lab: ${passed}/${total} scenarios, convergence p50 ${p50 ?? "-"} ms p99 ${p99 ?? "-"} ms, failover max ${failoverMax.toFixed(1)} s`;
  return unfinished === undefined ? line : `${line}; NOT FINISHED: ${unfinished.split("\n")[0]}`;
}

const progress: Progress = { total: SCENARIOS.length, passed: 0, figures: { convergenceMs: [], failover: [] } };
/** The lab this run made and has not taken down yet (from the moment its state exists). */
let made: LabState | undefined;

const guard = guardExit({
  summary: (why) => summaryLine(progress, why),
  async cleanup() {
    if (!made) return;
    await downLab(made, { keepLogs: true });
    say(`lab logs kept in ${made.dir}`);
  },
  cleanupSync() {
    if (made) downLabSync(made);
  },
});

async function main(): Promise<{ code: number; summary: string }> {
  const {
    scenarios,
    keepLogs: keepLogsAlways,
    hosts,
    registeredHosts,
  } = options(process.argv.slice(2).filter((arg) => arg !== "--"));
  progress.total = scenarios.length;
  const missing = labMissing();
  if (missing) {
    if (requireAll) {
      return {
        code: 1,
        summary: `lab: FAILED, ${scenarios.length} scenarios not run (REQUIRE_ALL=1 counts the lab's skip as a failure): ${missing}`,
      };
    }
    return { code: 0, summary: `lab: SKIPPED, ${scenarios.length} scenarios not run: ${missing}` };
  }
  const began = Date.now();
  const { figures } = progress;
  let lab: Lab | undefined;
  // Seen in CI: the loop emptied while Lab.up awaited a fetch through the forwarders (Node's
  // fetch held no ref'd handle). This keeps the run alive so the fetches' own deadlines and
  // LAB_UP_TIMEOUT_MS decide, and a stuck step fails by name instead.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    lab = await withTimeout(
      Lab.up({
        switches: 2,
        hosts,
        registeredHosts,
        consolePort: 0,
        log: (line) => say(`  ${line}`),
        onState: (state) => {
          made = state;
        },
      }),
      LAB_UP_TIMEOUT_MS,
      "the lab to come up",
    );
    const size = registeredHosts > 0 ? `, ${hosts} hosts connected and ${registeredHosts} registered offline` : "";
    say(`lab up in ${((Date.now() - began) / 1000).toFixed(1)} s (files in ${lab.state.dir})${size}`);
    for (const scenario of scenarios) {
      const i = SCENARIOS.indexOf(scenario);
      const started = Date.now();
      const current = lab;
      try {
        await withTimeout(
          scenario.run({ lab: current, figures, log: (line) => say(`    ${line}`) }),
          SCENARIO_TIMEOUT_MS,
        );
        progress.passed += 1;
        say(`  ok   ${i + 1}. ${scenario.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      } catch (error) {
        say(`  FAIL ${i + 1}. ${scenario.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
        say(`       ${error instanceof Error ? error.message : String(error)}`.replaceAll("\n", "\n       "));
      }
      if (guard.ending) break;
    }
  } catch (error) {
    say(`lab: could not start: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    clearInterval(keepAlive);
    // Interrupted: the guard takes the lab down (and prints the summary) instead.
    if (lab && !guard.ending) {
      const keepLogs = keepLogsAlways || progress.passed < scenarios.length;
      await lab.down({ keepLogs });
      made = undefined;
      if (keepLogs) say(`lab logs kept in ${lab.state.dir}`);
    } else if (made && !guard.ending) {
      // Lab.up failed or timed out half-way: remove what it had made.
      await downLab(made, { keepLogs: true });
      say(`lab logs kept in ${made.dir}`);
      made = undefined;
    }
  }
  // Interrupted: the guard prints the summary once the lab is down.
  if (guard.ending) return { code: 1, summary: "" };
  say(`lab suite took ${((Date.now() - began) / 1000).toFixed(1)} s`);
  const failoverMax = Math.max(0, ...figures.failover.filter((f) => f.kind !== "clean stop").map((f) => f.seconds));
  const cleanMax = Math.max(0, ...figures.failover.filter((f) => f.kind === "clean stop").map((f) => f.seconds));
  const p99 = figures.convergenceMs.length ? percentile(figures.convergenceMs, 99) : undefined;
  if (figures.failoverTargetS !== undefined) say(`failover after a clean stop: max ${cleanMax.toFixed(1)} s`);
  const verdict = (ok: boolean | undefined) => (ok === undefined ? "not measured" : ok ? "met" : "MISSED");
  say(
    [
      "targets:",
      `convergence p99 < 100 ms ${verdict(p99 === undefined ? undefined : p99 < 100)},`,
      `failover <= ${figures.failoverTargetS ?? "-"} s ${verdict(figures.failoverTargetS === undefined ? undefined : failoverMax <= figures.failoverTargetS)},`,
      `clean stop < 3 s ${verdict(figures.failoverTargetS === undefined ? undefined : cleanMax < 3)}`,
    ].join(" "),
  );
  return { code: progress.passed === scenarios.length ? 0 : 1, summary: summaryLine(progress) };
}

main().then(
  ({ code, summary }) => guard.finish(code, summary),
  (error: unknown) => {
    process.stderr.write(`lab: ${error instanceof Error ? error.stack : String(error)}\n`);
    if (made) downLabSync(made);
    guard.finish(1, summaryLine(progress, error instanceof Error ? error.message : String(error)));
  },
);
