// pnpm bench:fanout — what a user waits for when hosts come and go: from OpenVPN's client hook
// firing on one switch until the route change is applied at every peer that must change.
//   - The real API in its own process (main.ts, embedded PGlite, like `pnpm start`).
//   - BENCH_SWITCHES (50) real agents — the Agent class with its file writer on a temp dir, its
//     reconcile, route programmer and session tracker, the real websocket channel client, each
//     enrolled through the API — all in this process. What is fake, and left out: the kernel (a
//     Map answers `ip`, so no netlink cost; fanout/../map-kernel.ts) and OpenVPN (status 3 comes
//     from a fake management socket listing what the workload connected; no >CLIENT
//     notifications). 50 switches share this machine's cores, where real ones have their own.
//   - BENCH_HOSTS (50,000) hosts; BENCH_CONNECTED (30 %) connected first, unmeasured (warm-up).
//   - The storm: BENCH_RATE (5,000) events/s for BENCH_SECONDS (10), BENCH_SHARES connect/roam/
//     disconnect (60/25/15), written as real hook lines into each agent's FIFO by a separate
//     process (fanout/hook-writer.ts), each stamped when written.
//   - An event is done when every peer's fake kernel has applied its line (fanout/route-watch.ts);
//     one not done BENCH_DEADLINE_MS (30 s) after the storm is lost, one over BENCH_LATE_MS (1 s) late.
// Last line:
//   fanout: p50 X ms, p99 Y ms, lost N, api-rss Z MB, agents real, instances N
// `--instances N` (or BENCH_INSTANCES): N API processes on one PostgreSQL database (a scratch one
// on BENCH_DATABASE_URL, default TEST_DATABASE_URL), agents spread over them; api-rss adds them up.
// BENCH_DATABASE=postgres runs a single instance on such a database too (the baseline for N).
import { type ChildProcess, fork } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sleep, waitFor } from "@switchboard/testkit/wait";
import { type FleetAgent, startFleetAgent, stopFleetAgent } from "./fanout/agent-fleet.ts";
import { type BenchApi, startBenchApi } from "./fanout/api-setup.ts";
import { readConfig } from "./fanout/config.ts";
import type { WriterReport, WriterRun } from "./fanout/hook-writer.ts";
import { byKind, latencySummary, p, rssMb } from "./fanout/report.ts";
import { epochNow, RouteWatch } from "./fanout/route-watch.ts";

const config = readConfig();
/** Per agent, from its channel's start to the ack of its first full state. */
const SNAPSHOT_DEADLINE_MS = Number(process.env.BENCH_SNAPSHOT_DEADLINE_MS ?? 900_000);
const WRITER = fileURLToPath(new URL("./fanout/hook-writer.ts", import.meta.url));

const log = (line: string) => process.stderr.write(`fanout: ${line}\n`);

let root: string | undefined;
let api: BenchApi | undefined;
let writer: ChildProcess | undefined;
const fleet: FleetAgent[] = [];

async function cleanup(): Promise<void> {
  writer?.kill();
  // An agent far behind finishes every queued frame before its channel closes: bounded, the
  // process exit ends the rest (its files go with the temp dir).
  await Promise.race([Promise.all(fleet.map((a) => stopFleetAgent(a).catch(() => undefined))), sleep(5000)]);
  await api?.stop();
  // A stopped agent's last write may still land: retry, and never let cleanup hide the figures.
  if (root)
    await rm(root, { recursive: true, force: true, maxRetries: 5 }).catch((error: unknown) =>
      log(`could not remove ${root}: ${String(error)}`),
    );
}

/** Starts and enrolls every agent, `concurrency` at a time, and waits for each first snapshot. */
async function startFleet(bench: BenchApi, watch: RouteWatch, agentsDir: string): Promise<number[]> {
  const times: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: config.connectConcurrency }, async () => {
      while (next < bench.switches.length) {
        const index = next++;
        const sw = bench.switches[index] as BenchApi["switches"][number];
        const credential = await bench.enroll(sw.id);
        const started = epochNow();
        const agent = await startFleetAgent({
          index,
          switchId: sw.id,
          baseDir: join(agentsDir, sw.name),
          // Agents spread over the instances; each knows the others to fail over to.
          api: bench.bases[index % bench.bases.length] as string,
          otherApis: bench.bases.filter((_, i) => i !== index % bench.bases.length),
          credential,
          onBatch: (i, lines, at) => watch.onBatch(i, lines, at),
        });
        fleet[index] = agent;
        await waitFor(
          `agent ${sw.name}'s ack of its first full desired state`,
          () => {
            if (agent.failedAcks > 0)
              throw new Error(`agent ${sw.name} refused its desired state: ${agent.firstError}`);
            return agent.snapshotAckedAt;
          },
          SNAPSHOT_DEADLINE_MS,
          20,
        );
        times.push((agent.snapshotAckedAt as number) - started);
        log(
          `  ${sw.name}: first snapshot acked after ${(((agent.snapshotAckedAt as number) - started) / 1000).toFixed(1)} s`,
        );
      }
    }),
  );
  return times;
}

function startWriter(bench: BenchApi, watch: RouteWatch): Promise<ChildProcess> {
  const child = fork(WRITER, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  writer = child;
  const byIndex = fleet;
  child.on("message", (report: WriterReport) => {
    if (report.type === "events") {
      for (const event of report.events) {
        const host = bench.hosts[event.host] as BenchApi["hosts"][number];
        const here = byIndex[event.switchIndex] as FleetAgent;
        if (event.kind === "disconnect") here.openvpn.clients.delete(host.commonName);
        else {
          here.openvpn.clients.set(host.commonName, { clientId: event.clientId, connectedAt: event.connectedAt });
          if (event.fromSwitch !== null) byIndex[event.fromSwitch]?.openvpn.clients.delete(host.commonName);
        }
        const to = bench.switches[event.switchIndex] as BenchApi["switches"][number];
        watch.expect(
          {
            id: event.id,
            kind: event.kind,
            destination: `${host.address}/32`,
            switchIndex: event.switchIndex,
            via: event.kind === "disconnect" ? null : to.backboneAddress,
          },
          report.measured,
        );
      }
    } else if (report.type === "stamps") {
      for (const [id, stamp] of report.stamps) watch.stamped(id, stamp);
    }
  });
  child.send({
    type: "init",
    hosts: bench.hosts.map((h) => [h.commonName, h.address]),
    fifos: fleet.map((a) => a.fifo),
    restMs: config.restMs,
  });
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== "ready") return;
      child.off("message", onMessage);
      resolve(child);
    };
    child.on("message", onMessage);
    child.once("exit", (code) => reject(new Error(`the hook writer exited (${code}) before it was ready`)));
    setTimeout(
      () => reject(new Error("timed out after 60 s waiting for the hook writer to open every FIFO")),
      60_000,
    ).unref();
  });
}

/** Runs one phase in the writer; resolves with its done report. */
function runPhase(
  child: ChildProcess,
  command: Omit<WriterRun, "type">,
): Promise<Extract<WriterReport, { type: "done" }>> {
  const limitMs = command.seconds * 1000 + 60_000;
  return new Promise((resolve, reject) => {
    const onMessage = (report: WriterReport) => {
      if (report.type !== "done" || report.phase !== command.phase) return;
      child.off("message", onMessage);
      clearTimeout(timer);
      resolve(report);
    };
    const timer = setTimeout(
      () =>
        reject(new Error(`timed out after ${limitMs} ms waiting for the hook writer to finish the ${command.phase}`)),
      limitMs,
    );
    child.on("message", onMessage);
    child.send({ type: "run", ...command });
  });
}

async function main(): Promise<void> {
  const { shares } = config;
  log(
    `${config.switches} switches, ${config.hosts} hosts (${config.connected} connected first), ${config.rate} events/s for ${config.seconds} s, shares connect/roam/disconnect ${(shares.connect * 100).toFixed(0)}/${(shares.roam * 100).toFixed(0)}/${(shares.disconnect * 100).toFixed(0)} %; agents real (Agent + channel client, files on disk), kernel and OpenVPN fake`,
  );
  root = await mkdtemp(join(tmpdir(), "sb-fanout-"));
  const agentsDir = join(root, "agents");
  const setupStarted = performance.now();
  api = await startBenchApi(join(root, "api"), config.switches, config.hosts, config.instances);
  const bench = api;
  log(
    `API up with ${bench.switches.length} switches and ${bench.hosts.length} hosts after ${((performance.now() - setupStarted) / 1000).toFixed(1)} s; starting agents`,
  );
  const watch = new RouteWatch(bench.switches.length);

  const fleetStarted = performance.now();
  const snapshotTimes = (await startFleet(bench, watch, agentsDir)).sort((a, b) => a - b);
  const ccdFiles = (await readdir(join(agentsDir, "sw-0", "ccd")).catch(() => [])).length;
  log(
    `first snapshot per agent (files written, routes applied, acked; ${config.connectConcurrency} at a time): median ${((snapshotTimes[Math.floor(snapshotTimes.length / 2)] ?? 0) / 1000).toFixed(1)} s, max ${((snapshotTimes.at(-1) ?? 0) / 1000).toFixed(1)} s; all ${fleet.length} agents in ${((performance.now() - fleetStarted) / 1000).toFixed(1)} s; ${ccdFiles} ccd files per switch`,
  );

  const child = await startWriter(bench, watch);
  if (config.connected > 0) {
    const warm = await runPhase(child, {
      phase: "warm-up",
      rate: config.rate,
      events: config.connected,
      seconds: (config.connected / Math.max(1, config.rate)) * 4 + 10,
      shares: { connect: 1, roam: 0, disconnect: 0 },
    });
    const settled = performance.now();
    await waitFor(
      `the warm-up's ${warm.sent} connects to reach every peer`,
      () => watch.openOf(false).length === 0,
      config.deadlineMs,
      20,
    ).catch((error: unknown) => {
      const open = watch.openOf(false);
      const sample = open
        .slice(0, 5)
        .map(
          (e) =>
            `${e.destination} from sw-${e.switchIndex} missing at ${[...e.remaining].map((i) => `sw-${i}`).join(",")}`,
        );
      throw new Error(
        `${(error as Error).message} (${open.length} still open: ${sample.join("; ")}; BENCH_CONNECTED=0 skips the warm-up, so the storm starts from no sessions)`,
      );
    });
    log(
      `warm-up: ${warm.sent} hosts connected in ${warm.seconds.toFixed(1)} s, at every peer ${((performance.now() - settled) / 1000).toFixed(1)} s later`,
    );
  }

  const storm = await runPhase(child, {
    phase: "storm",
    rate: config.rate,
    events: Math.round(config.rate * config.seconds),
    seconds: config.seconds,
    shares,
  });
  const stormEnded = performance.now();
  await waitFor(
    "every event's route change at every peer",
    () => watch.openOf(true).length === 0,
    config.deadlineMs,
    20,
  ).catch(
    () => undefined, // What is still open now is lost: counted below, not waited for.
  );
  const drained = (performance.now() - stormEnded) / 1000;
  const open = watch.openOf(true);
  const lost = open.length + watch.superseded + watch.droppedAtHook;

  // Every instance's peak, added: what the control plane costs in all.
  const perInstance = await Promise.all(bench.servers.map((server) => rssMb(server.child.pid as number)));
  const apiRss = { peak: perInstance.reduce((sum, rss) => sum + rss.peak, 0) };
  const agentsRss = await rssMb("self");
  const writerRss = await rssMb(child.pid as number).catch(() => ({ now: 0, peak: 0 }));
  const outcomes = watch.outcomes;
  const counts = storm.counts;
  log(
    `storm: ${storm.sent} events in ${storm.seconds.toFixed(1)} s (${(storm.sent / storm.seconds).toFixed(0)} events/s achieved of ${config.rate}): connect ${counts.connect ?? 0}, roam ${counts.roam ?? 0}, disconnect ${counts.disconnect ?? 0} (${(((counts.connect ?? 0) / storm.sent) * 100).toFixed(0)}/${(((counts.roam ?? 0) / storm.sent) * 100).toFixed(0)}/${(((counts.disconnect ?? 0) / storm.sent) * 100).toFixed(0)} %)`,
  );
  log(`all events: ${latencySummary(outcomes, config.lateMs)}; drained ${drained.toFixed(1)} s after the storm`);
  for (const [kind, list] of byKind(outcomes)) log(`  ${kind}: ${latencySummary(list, config.lateMs)}`);
  log(
    `lost ${lost}: ${open.length} not at every peer ${config.deadlineMs / 1000} s after the storm, ${watch.superseded} overtaken by the host's next event, ${watch.droppedAtHook} refused by a full hook FIFO`,
  );
  if (open.length > 0) {
    // Which peers they miss: one switch missing nearly all says that agent stalled, a spread says load.
    const missing = new Map<number, number>();
    for (const entry of open) for (const peer of entry.remaining) missing.set(peer, (missing.get(peer) ?? 0) + 1);
    const bySwitch = [...missing].sort((a, b) => b[1] - a[1]).map(([peer, count]) => `sw-${peer} ${count}`);
    log(`  missing at: ${bySwitch.join(", ")}`);
    // A refused update (route guard, blast radius) asks for a resync: a full snapshot, seconds at 10,000 hosts.
    const refused = fleet.filter((agent) => agent.failedAcks > 0);
    for (const agent of refused) log(`  sw-${agent.index}: ${agent.failedAcks} failed acks, first ${agent.firstError}`);
    const sample = open[0];
    log(
      `  e.g. ${sample?.kind} of ${sample?.destination} at switch ${sample?.switchIndex}: ${sample?.remaining.size} peers missing`,
    );
  }
  log(
    `rss peak: API ${apiRss.peak.toFixed(0)} MB, agents' process (all ${fleet.length}) ${agentsRss.peak.toFixed(0)} MB (${(agentsRss.peak / fleet.length).toFixed(0)} MB per agent), hook writer ${writerRss.peak.toFixed(0)} MB; route lines applied ${watch.lines}`,
  );
  console.log(
    `fanout: p50 ${p(outcomes, 50)} ms, p99 ${p(outcomes, 99)} ms, lost ${lost}, api-rss ${apiRss.peak.toFixed(0)} MB, agents real, instances ${bench.servers.length}`,
  );
  child.send({ type: "exit" });
  await sleep(100);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

main()
  .catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanup();
    // Agents' timers and sockets are closed, but a stray handle must not keep a finished bench alive.
    process.exit();
  });
