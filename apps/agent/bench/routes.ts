/**
 * pnpm bench:routes — how fast routes are computed (the API, compute-routes.ts, no root needed)
 * and what the agent's route programmer costs against a plain `ip -batch` of the same lines.
 *
 * In a network namespace of its own (removed at the end, also on error or Ctrl-C), with 10,000
 * /32 routes:
 *   - full install: a fresh RouteProgrammer as the agent runs it (keepIpRunning: its batches go
 *     to one long-running ip; it reads the table on its first apply, as an agent starting does)
 *     applying all 10,000, against one `ip -force -batch -` of the same
 *     `route replace` lines through the same runner (the fair floor); the routes are withdrawn
 *     between runs, the order alternates, the median of FULL_RUNS each is printed;
 *   - one change: with 10,000 in place, CHANGE_RUNS applies of the full desired list with ONE
 *     route re-pointed (median, p99), beside a plain one-line `ip -batch` on a route of another
 *     protocol (the cost of starting ip at all);
 *   - no-op: CHANGE_RUNS applies of the same list, which must run no route command.
 * Each phase stops after PHASE_BUDGET_MS and says how many samples it took (the programmer
 * before issue 14 read the whole table on every apply, about a second each). The kernel's
 * table is checked against what was asked after each phase. Needs root. Last line:
 *   routes: full X s (ip-batch Y s, ratio X/Y), one-change <median> ms, no-op <median> ms
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { formatIpv4, parseIpv4, type Route } from "@switchboard/shared";
import { median, ms, percentile } from "@switchboard/testkit/stats";
import { RouteProgrammer } from "../src/routes/route-programmer.ts";
import { ROUTE_PROTOCOL } from "../src/routes/route-protocol.ts";
import { type CommandRunner, spawnRunner } from "../src/system/command-runner.ts";
import { benchComputeRoutes } from "./compute-routes.ts";

const COUNT = 10_000;
const FULL_RUNS = 5;
const CHANGE_RUNS = 200;
const PHASE_BUDGET_MS = 60_000;
const DEV = "sbb-bench-1";
const GATEWAYS = ["10.200.0.2", "10.200.0.3"] as const;
/** A route of another protocol the one-line baseline re-points; the programmer never owns it. */
const FOREIGN = "10.99.0.1/32";

benchComputeRoutes();
if (process.getuid?.() !== 0) {
  console.error("bench:routes needs root: it creates a network namespace (ip netns add) and programs routes in it.");
  process.exit(1);
}
if (spawnSync("ip", ["-V"]).status !== 0) {
  console.error("bench:routes needs iproute2 (the ip command).");
  process.exit(1);
}

const ns = `sb-bench-${randomBytes(4).toString("hex")}`;
let created = false;
function cleanup(): void {
  if (created) spawnSync("ip", ["netns", "del", ns]);
  created = false;
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

// Every ip call has a deadline: a wedged netlink socket fails the bench instead of hanging it.
const runner: CommandRunner = spawnRunner({ timeoutMs: 60_000 });

async function ip(what: string, args: string[], input?: string): Promise<string> {
  const result = await runner.run("ip", ["-n", ns, ...args], input);
  if (result.code !== 0)
    throw new Error(`${what}: ip ${args.join(" ")} failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

const batch = (what: string, lines: readonly string[]) => ip(what, ["-force", "-batch", "-"], `${lines.join("\n")}\n`);

/** Our routes in the table, destination to gateway, as the kernel reports them. */
async function ownedRoutes(): Promise<Map<string, string>> {
  const out = await ip("reading our routes", [
    "-4",
    "-json",
    "route",
    "show",
    "table",
    "main",
    "proto",
    String(ROUTE_PROTOCOL),
  ]);
  const list = JSON.parse(out.trim() || "[]") as { dst: string; gateway?: string }[];
  return new Map(list.map((r) => [r.dst.includes("/") ? r.dst : `${r.dst}/32`, r.gateway ?? ""]));
}

async function expectTable(what: string, routes: readonly Route[]): Promise<void> {
  const table = await ownedRoutes();
  const wrong = routes.filter((r) => table.get(r.destination) !== r.via);
  if (table.size !== routes.length || wrong.length > 0) {
    throw new Error(
      `${what}: the kernel holds ${table.size} of our routes, ${wrong.length} differ from the ${routes.length} asked`,
    );
  }
}

const replaceLine = (r: Route) =>
  `route replace ${r.destination} via ${r.via} dev ${r.dev} proto ${ROUTE_PROTOCOL} table main`;
const deleteLine = (r: Route) => `route del ${r.destination} proto ${ROUTE_PROTOCOL} table main`;

async function fullInstall(desired: readonly Route[]): Promise<{ programmer: number; plain: number }> {
  const replaceLines = desired.map(replaceLine);
  const deleteLines = desired.map(deleteLine);
  const withdraw = async () => {
    await batch("withdrawing between runs", deleteLines);
    await expectTable("after the withdrawal", []);
  };
  const programmerRuns: number[] = [];
  const plainRuns: number[] = [];
  const viaProgrammer = async () => {
    const programmer = new RouteProgrammer({ runner, netns: ns, keepIpRunning: true });
    const started = performance.now();
    const result = await programmer.apply(desired);
    programmerRuns.push(performance.now() - started);
    programmer.close();
    if (result.failed.length > 0 || result.routeCommands !== 1) {
      throw new Error(
        `programmer full install: ${result.routeCommands} route commands, failed ${JSON.stringify(result.failed.slice(0, 3))}`,
      );
    }
    await expectTable("after the programmer's full install", desired);
  };
  const viaPlainBatch = async () => {
    const started = performance.now();
    await batch("plain ip -batch full install", replaceLines);
    plainRuns.push(performance.now() - started);
    await expectTable("after the plain ip -batch", desired);
  };
  for (let run = 0; run < FULL_RUNS; run++) {
    // Alternating who goes first, so a slow moment of the machine does not always hit the same one.
    for (const step of run % 2 === 0 ? [viaProgrammer, viaPlainBatch] : [viaPlainBatch, viaProgrammer]) {
      await step();
      await withdraw();
    }
  }
  console.log(
    `full install of ${COUNT}: programmer ${programmerRuns.map((x) => (x / 1000).toFixed(3)).join(" ")} s; plain ip -batch ${plainRuns.map((x) => (x / 1000).toFixed(3)).join(" ")} s`,
  );
  return { programmer: median(programmerRuns) / 1000, plain: median(plainRuns) / 1000 };
}

/** Runs `step(i)` up to CHANGE_RUNS times within PHASE_BUDGET_MS; returns each duration in ms. */
async function phase(step: (i: number) => Promise<number>): Promise<number[]> {
  const samples: number[] = [];
  const deadline = performance.now() + PHASE_BUDGET_MS;
  for (let i = 0; i < CHANGE_RUNS && performance.now() < deadline; i++) samples.push(await step(i));
  return samples;
}

function summary(samples: readonly number[]): string {
  return `p50 ${ms(median(samples))} ms, p99 ${ms(percentile(samples, 99))} ms, max ${ms(Math.max(...samples))} ms (n=${samples.length})`;
}

async function main(): Promise<void> {
  await spawnRunner().run("ip", ["netns", "add", ns]);
  created = true;
  // A dummy interface when the kernel has the driver; otherwise one end of a veth pair, which
  // is just as good a nexthop device for the routing table.
  const dummy = spawnSync("ip", ["-n", ns, "link", "add", DEV, "type", "dummy"]);
  const device = dummy.status === 0 ? "dummy" : "veth (no dummy driver in this kernel)";
  if (dummy.status !== 0) {
    await ip("creating the veth pair", ["link", "add", DEV, "type", "veth", "peer", "name", "bench-peer"]);
    await ip("raising the peer", ["link", "set", "bench-peer", "up"]);
  }
  await ip("raising the device", ["link", "set", DEV, "up"]);
  await ip("addressing the device", ["addr", "add", "10.200.0.1/24", "dev", DEV]);
  await ip("adding the foreign route", ["route", "add", FOREIGN, "via", GATEWAYS[0], "dev", DEV, "proto", "static"]);
  console.log(`namespace ${ns}, nexthops ${GATEWAYS.join(", ")} on ${DEV} (${device})`);

  const first = parseIpv4("10.64.0.1") ?? 0;
  const desired: Route[] = Array.from({ length: COUNT }, (_, i) => ({
    destination: `${formatIpv4(first + i)}/32`,
    via: GATEWAYS[0],
    dev: DEV,
  }));

  const full = await fullInstall(desired);

  // The agent's life from here: one programmer, started on an empty table, then updates.
  const programmer = new RouteProgrammer({ runner, netns: ns, keepIpRunning: true });
  const installed = await programmer.apply(desired);
  if (installed.failed.length > 0)
    throw new Error(`install before the one-change phase: ${JSON.stringify(installed.failed.slice(0, 3))}`);
  const state = [...desired];
  const oneChange = await phase(async (i) => {
    // Spread over the table; a route picked again flips back to the other gateway.
    const k = (i * 7919) % COUNT;
    const current = state[k] as Route;
    state[k] = { ...current, via: current.via === GATEWAYS[0] ? GATEWAYS[1] : GATEWAYS[0] };
    const list = [...state];
    const started = performance.now();
    const result = await programmer.apply(list);
    const took = performance.now() - started;
    if (result.routeCommands !== 1 || result.added !== 1 || result.removed !== 0 || result.failed.length > 0) {
      throw new Error(`one change ${i}: ${JSON.stringify({ ...result, applied: result.applied.length })}`);
    }
    return took;
  });
  await expectTable("after the one-change phase", state);
  const plainOneLine = await phase(async (i) => {
    const line = `route replace ${FOREIGN} via ${GATEWAYS[(i + 1) % 2]} dev ${DEV} proto static table main`;
    const started = performance.now();
    await ip("plain one-line ip -batch", ["-force", "-batch", "-"], `${line}\n`);
    return performance.now() - started;
  });
  console.log(`one change among ${COUNT}: ${summary(oneChange)}`);
  console.log(`  a plain one-line ip -batch (starting ip at all): ${summary(plainOneLine)}`);

  const noOp = await phase(async (i) => {
    const list = [...state];
    const started = performance.now();
    const result = await programmer.apply(list);
    const took = performance.now() - started;
    if (result.routeCommands !== 0 || result.failed.length > 0)
      throw new Error(`no-op ${i} ran ${result.routeCommands} route commands`);
    return took;
  });
  await expectTable("after the no-op phase", state);
  programmer.close();
  console.log(`no-op apply of ${COUNT}: ${summary(noOp)}`);

  console.log(
    `routes: full ${full.programmer.toFixed(3)} s (ip-batch ${full.plain.toFixed(3)} s, ratio ${(full.programmer / full.plain).toFixed(2)}), one-change ${ms(median(oneChange))} ms, no-op ${ms(median(noOp))} ms`,
  );
}

main()
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  })
  .finally(cleanup);
