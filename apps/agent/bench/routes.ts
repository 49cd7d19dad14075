/**
 * pnpm bench:routes — how fast routes are computed (the API, compute-routes.ts, no root needed)
 * and how fast the agent programs them, each against the obvious alternative.
 *
 * In a network namespace of its own (removed at the end, also on error or Ctrl-C) it applies
 * 10,000 /32 routes with the agent's RouteProgrammer (one `ip -batch`), removes them, adds the
 * same 10,000 with one `ip route add` per route, and finally applies the same desired set again
 * with the programmer, which must find nothing to do (zero route commands).
 * Needs root (network namespaces). Last line:
 *   routes: switchboard <s1> s, ip-loop <s2> s, ratio <s2/s1>
 */
import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { formatIpv4, parseIpv4, type Route } from "@switchboard/shared";
import { RouteProgrammer } from "../src/routes/route-programmer.ts";
import { ROUTE_PROTOCOL } from "../src/routes/route-protocol.ts";
import { type CommandRunner, spawnRunner } from "../src/system/command-runner.ts";
import { benchComputeRoutes } from "./compute-routes.ts";

const COUNT = 10_000;
const DEV = "sbb-bench-1";
const GATEWAY = "10.200.0.2";
const run = promisify(execFile);

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

const ip = (...args: string[]) => run("ip", ["-n", ns, ...args]);

/** Counts the route-changing invocations (`-batch`) the programmer makes. */
function counting(inner: CommandRunner): CommandRunner & { batches: number; reads: number } {
  const counter = {
    batches: 0,
    reads: 0,
    run(file: string, args: readonly string[], input?: string) {
      if (args.includes("-batch")) counter.batches += 1;
      else counter.reads += 1;
      return inner.run(file, args, input);
    },
  };
  return counter;
}

async function ownedCount(): Promise<number> {
  const { stdout } = await ip("-4", "route", "show", "table", "main", "proto", String(ROUTE_PROTOCOL));
  return stdout.split("\n").filter((line) => line.trim() !== "").length;
}

async function main(): Promise<void> {
  await run("ip", ["netns", "add", ns]);
  created = true;
  // A dummy interface when the kernel has the driver; otherwise one end of a veth pair, which
  // is just as good a nexthop device for the routing table.
  const dummy = spawnSync("ip", ["-n", ns, "link", "add", DEV, "type", "dummy"]);
  const device = dummy.status === 0 ? "dummy" : "veth (no dummy driver in this kernel)";
  if (dummy.status !== 0) {
    await ip("link", "add", DEV, "type", "veth", "peer", "name", "bench-peer");
    await ip("link", "set", "bench-peer", "up");
  }
  await ip("link", "set", DEV, "up");
  await ip("addr", "add", "10.200.0.1/24", "dev", DEV);
  console.log(`namespace ${ns}, nexthop ${GATEWAY} on ${DEV} (${device})`);

  const first = parseIpv4("10.64.0.1") ?? 0;
  const desired: Route[] = Array.from({ length: COUNT }, (_, i) => ({
    destination: `${formatIpv4(first + i)}/32`,
    via: GATEWAY,
    dev: DEV,
  }));

  const runner = counting(spawnRunner());
  const programmer = new RouteProgrammer({ runner, netns: ns });

  let started = performance.now();
  const applied = await programmer.apply(desired);
  const s1 = (performance.now() - started) / 1000;
  if (applied.failed.length > 0 || (await ownedCount()) !== COUNT) {
    throw new Error(`switchboard apply did not reach ${COUNT} routes: ${JSON.stringify(applied.failed.slice(0, 3))}`);
  }
  console.log(
    `switchboard: ${COUNT} routes in ${s1.toFixed(3)} s with ${applied.routeCommands} route command (plus ${applied.reads} read)`,
  );

  started = performance.now();
  const withdrawn = await programmer.apply([], { verifiedFullSnapshot: true });
  console.log(
    `switchboard: withdrew ${withdrawn.removed} routes in ${((performance.now() - started) / 1000).toFixed(3)} s`,
  );
  if ((await ownedCount()) !== 0) throw new Error("routes left after the withdrawal");

  started = performance.now();
  for (const route of desired) {
    await ip("route", "add", route.destination, "via", route.via, "dev", route.dev, "proto", String(ROUTE_PROTOCOL));
  }
  const s2 = (performance.now() - started) / 1000;
  if ((await ownedCount()) !== COUNT) throw new Error(`ip loop did not reach ${COUNT} routes`);
  console.log(`ip-loop: ${COUNT} routes in ${s2.toFixed(3)} s (${((s2 / COUNT) * 1000).toFixed(2)} ms per route)`);

  const batchesBefore = runner.batches;
  const readsBefore = runner.reads;
  const again = await programmer.apply(desired);
  const routeCommands = runner.batches - batchesBefore;
  console.log(
    `second apply of the same ${COUNT} routes: ${routeCommands} route commands (${runner.reads - readsBefore} read), ${again.applied.length} routes in place`,
  );
  if (routeCommands !== 0 || again.applied.length !== COUNT) throw new Error("a repeated apply must change nothing");

  console.log(`routes: switchboard ${s1.toFixed(3)} s, ip-loop ${s2.toFixed(3)} s, ratio ${(s2 / s1).toFixed(1)}`);
}

main()
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  })
  .finally(cleanup);
