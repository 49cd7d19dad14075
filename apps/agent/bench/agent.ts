/**
 * pnpm bench:agent — what a real agent costs per change at scale: the Agent class with its file
 * writer on a temp directory (on disk, fsyncs included), its full reconcile and route programmer.
 * As root, routes go to a throwaway network namespace through the real `ip` (a dummy device
 * stands for the backbone link); otherwise to the fake kernel of packages/testkit (fake-ip.ts),
 * and the bench says so.
 *
 * For each size (the baseline first, then --hosts): a snapshot of N hosts (each its ccd file;
 * 90% reached over the backbone, one /32 each) timed from handleMessage to its ack; then
 * --deltas one-host deltas (a host upserted with a changed ccd file) and as many routes-only
 * deltas (one /32 re-pointed), each timed from handleMessage to its ack, one at a time. Every
 * message the agent sends is serialised as the channel would. A phase stops after
 * PHASE_BUDGET_MS and says how many samples it took (the agent before issue 14 ran a full
 * reconcile per delta). At the end the disk and the kernel are checked against the last state.
 * Last line:
 *   agent: snapshot <s> s, delta p99 <ms> ms, rss <MB> MB, hosts <N>
 * Options: --hosts 50000 --baseline-hosts 5000 --deltas 200
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AgentToApiMessage,
  type DesiredHost,
  type DesiredState,
  type DesiredStateDelta,
  formatIpv4,
  parseIpv4,
  type Route,
} from "@switchboard/shared";
import { FakeIp } from "@switchboard/testkit/agent/fake-ip";
import { ms, percentile } from "@switchboard/testkit/stats";
import { Agent } from "../src/agent.ts";
import { type CommandRunner, spawnRunner } from "../src/system/command-runner.ts";
import { desiredState } from "../test/support/desired.ts";

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
};
const HOSTS = arg("--hosts", 50_000);
const BASELINE = arg("--baseline-hosts", 5_000);
const DELTAS = arg("--deltas", 200);
const PHASE_BUDGET_MS = 90_000;
const SNAPSHOT_DEADLINE_MS = 20 * 60_000;
const ACK_DEADLINE_MS = 120_000;
const LINK_DEV = "sbb-aaaaa-2";
const GATEWAYS = ["10.200.200.2", "10.200.200.3"] as const;
const FIRST_HOST = parseIpv4("10.64.0.2") as number;

const root = process.getuid?.() === 0 && spawnSync("ip", ["-V"]).status === 0;
const ns = `sb-bench-agent-${randomBytes(3).toString("hex")}`;
let nsCreated = false;
const dirs: string[] = [];
function cleanup(): void {
  if (nsCreated) spawnSync("ip", ["netns", "del", ns]);
  nsCreated = false;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

function ip(...args: string[]): void {
  const run = spawnSync("ip", ["-n", ns, ...args], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`ip -n ${ns} ${args.join(" ")}: ${run.stderr.trim()}`);
}

function makeNamespace(): void {
  const add = spawnSync("ip", ["netns", "add", ns], { encoding: "utf8" });
  if (add.status !== 0) throw new Error(`ip netns add ${ns}: ${add.stderr.trim()}`);
  nsCreated = true;
  ip("link", "set", "lo", "up");
  // A dummy device when the kernel has the driver, else one end of a veth pair.
  const dummy = spawnSync("ip", ["-n", ns, "link", "add", LINK_DEV, "type", "dummy"]);
  if (dummy.status !== 0) {
    ip("link", "add", LINK_DEV, "type", "veth", "peer", "name", "bench-peer");
    ip("link", "set", "bench-peer", "up");
  }
  ip("addr", "add", "10.200.200.1/24", "dev", LINK_DEV);
  ip("link", "set", LINK_DEV, "up");
}

function host(i: number, version = 0): DesiredHost {
  const address = formatIpv4(FIRST_HOST + i);
  const extra = version === 0 ? "" : `push "ping ${10 + (version % 50)}"\n`;
  return {
    commonName: `host-${i}`,
    address,
    subnets: [],
    clientConfig: `ifconfig-push ${address} 255.192.0.0\n${extra}`,
  };
}

/** Hosts i % 10 !== 0 are connected at another switch: a /32 over the backbone each. */
const reachedOverBackbone = (i: number) => i % 10 !== 0;
const routeOf = (i: number, gateway: string): Route => ({
  destination: `${formatIpv4(FIRST_HOST + i)}/32`,
  via: gateway,
  dev: LINK_DEV,
});

function snapshot(count: number): DesiredState {
  const hosts = Array.from({ length: count }, (_, i) => host(i));
  const routes: Route[] = [];
  for (let i = 0; i < count; i++) if (reachedOverBackbone(i)) routes.push(routeOf(i, GATEWAYS[0]));
  return desiredState({ revision: 1, hosts, routes, routeCount: routes.length });
}

interface SizeResult {
  readonly hosts: number;
  readonly routes: number;
  readonly snapshotS: number;
  readonly hostDeltas: number[];
  readonly routeDeltas: number[];
  readonly rssMb: number;
}

async function measure(count: number): Promise<SizeResult> {
  const baseDir = mkdtempSync(join(tmpdir(), "sb-bench-agent-"));
  dirs.push(baseDir);
  let acked: { revision: number | null; ok: boolean; at: number; errors: string } | undefined;
  let sentBytes = 0;
  const fake = root ? undefined : new FakeIp(new Set([LINK_DEV]));
  const real = spawnRunner();
  const runner: CommandRunner =
    fake === undefined ? real : { run: (f, a, i) => (f === "ip" ? fake.run(f, a, i) : real.run(f, a, i)) };
  const agent = new Agent({
    baseDir,
    switchId: "sw-a",
    agentVersion: "bench",
    // As the channel does with every frame.
    send: (message: AgentToApiMessage) => {
      sentBytes += JSON.stringify(message).length;
      if (message.type === "ack") {
        acked = {
          revision: message.revision,
          ok: message.ok,
          at: performance.now(),
          errors: message.errors.map((e) => e.message).join("; "),
        };
      }
    },
    // Real ip: the agent's own runner, as on a switch (one long-running ip for the batches).
    ...(root ? { netns: ns } : { runner }),
    apiHost: "192.0.2.10",
    statusIntervalMs: 3_600_000,
    reconcileIntervalMs: 3_600_000,
  });
  await agent.start();

  /** Hands the agent one frame and returns the ms until its ack named `revision`. */
  const timedAck = async (frame: object, revision: number, deadlineMs: number): Promise<number> => {
    acked = undefined;
    const start = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no ack for revision ${revision} within ${deadlineMs / 1000} s`)),
        deadlineMs,
      );
    });
    await Promise.race([agent.handleMessage(JSON.stringify(frame)), deadline]).finally(() => clearTimeout(timer));
    const ack = acked as typeof acked;
    if (ack === undefined) throw new Error(`revision ${revision}: handleMessage returned without an ack`);
    if (ack.revision !== revision || !ack.ok) {
      throw new Error(`revision ${revision}: ack ${JSON.stringify(ack)}`);
    }
    return ack.at - start;
  };

  const state = snapshot(count);
  const snapshotMs = await timedAck(state, 1, SNAPSHOT_DEADLINE_MS);
  console.log(
    `  ${count} hosts: snapshot ${(snapshotMs / 1000).toFixed(2)} s (${state.routes.length} routes, ${(sentBytes / 1e6).toFixed(1)} MB sent)`,
  );

  let revision = 1;
  const delta = (parts: Partial<DesiredStateDelta>): DesiredStateDelta => {
    revision += 1;
    return { type: "desired-state-delta", switchId: "sw-a", baseRevision: revision - 1, revision, ...parts };
  };
  const phase = async (name: string, make: (k: number) => DesiredStateDelta): Promise<number[]> => {
    const samples: number[] = [];
    const started = performance.now();
    for (let k = 0; k < DELTAS; k++) {
      if (performance.now() - started > PHASE_BUDGET_MS) {
        console.log(
          `  ${count} hosts: ${name}: stopped after ${samples.length} of ${DELTAS} (budget ${PHASE_BUDGET_MS / 1000} s)`,
        );
        break;
      }
      const next = make(k);
      samples.push(await timedAck(next, next.revision, ACK_DEADLINE_MS));
    }
    console.log(
      `  ${count} hosts: ${name}: p50 ${ms(percentile(samples, 50))} ms, p99 ${ms(percentile(samples, 99))} ms (${samples.length})`,
    );
    return samples;
  };

  // Spread over the hosts, a different one each time.
  const pick = (k: number) => (k * 7919 + 13) % count;
  let lastHost: DesiredHost | undefined;
  const hostDeltas = await phase("one-host deltas (ccd changed)", (k) => {
    lastHost = host(pick(k), k + 1);
    return delta({ hosts: { upsert: [lastHost], remove: [] } });
  });
  const via = new Map<number, string>();
  const routeDeltas = await phase("routes-only deltas (one /32 re-pointed)", (k) => {
    let i = pick(k + DELTAS);
    while (!reachedOverBackbone(i)) i = (i + 1) % count;
    const gateway = via.get(i) === GATEWAYS[1] ? GATEWAYS[0] : GATEWAYS[1];
    via.set(i, gateway);
    return delta({ routes: { upsert: [routeOf(i, gateway)], remove: [] } });
  });
  const rssMb = process.memoryUsage().rss / 1e6;

  // The last changes are really in place.
  if (lastHost !== undefined) {
    const onDisk = readFileSync(join(baseDir, "ccd", lastHost.commonName), "utf8");
    if (onDisk !== lastHost.clientConfig) throw new Error(`ccd/${lastHost.commonName} is not the last delta's`);
  }
  if (root) {
    const table = spawnSync("ip", ["-n", ns, "-4", "route", "show", "table", "main"], {
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
    }).stdout;
    const lines = table.split("\n");
    const repointed = [...via].filter(([i, gateway]) =>
      lines.some((line) => line.startsWith(`${formatIpv4(FIRST_HOST + i)} via ${gateway} `)),
    );
    if (repointed.length !== via.size)
      throw new Error(`kernel: ${via.size - repointed.length} re-pointed routes missing`);
    const ours = lines.filter((line) => line.includes(` dev ${LINK_DEV} `) && line.includes(" via ")).length;
    if (ours !== state.routes.length) throw new Error(`kernel: ${ours} routes, expected ${state.routes.length}`);
  }
  await agent.stop();
  rmSync(baseDir, { recursive: true, force: true });
  return { hosts: count, routes: state.routes.length, snapshotS: snapshotMs / 1000, hostDeltas, routeDeltas, rssMb };
}

try {
  if (!root)
    console.log("bench:agent: not root (or no ip): routes go to the fake kernel (packages/testkit fake-ip.ts)");
  console.log(
    `bench:agent: real Agent, files on disk under ${tmpdir()}, routes ${root ? `in network namespace ${ns} (real ip)` : "in the fake kernel"}`,
  );
  const results: SizeResult[] = [];
  for (const count of [BASELINE, HOSTS]) {
    if (count <= 0) continue;
    // A fresh namespace per size: the next agent starts from an empty table, as on a new switch.
    if (root) {
      cleanup();
      makeNamespace();
    }
    results.push(await measure(count));
  }
  const all = (r: SizeResult) => [...r.hostDeltas, ...r.routeDeltas];
  const main = results.at(-1) as SizeResult;
  const base = results.length > 1 ? results[0] : undefined;
  if (base !== undefined) {
    console.log(
      `scale ${main.hosts}/${base.hosts} hosts: snapshot ${(main.snapshotS / base.snapshotS).toFixed(1)}x, delta p99 ${(percentile(all(main), 99) / percentile(all(base), 99)).toFixed(2)}x (${ms(percentile(all(base), 99))} ms at ${base.hosts})`,
    );
  }
  console.log(
    `agent: snapshot ${main.snapshotS.toFixed(2)} s, delta p99 ${ms(percentile(all(main), 99))} ms, rss ${main.rssMb.toFixed(0)} MB, hosts ${main.hosts}`,
  );
} finally {
  cleanup();
}
