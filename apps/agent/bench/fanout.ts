// pnpm bench:fanout — the real API (its own process, embedded PGlite, like `pnpm start`) with 50
// simulated agents on real websockets and 50,000 hosts. A storm of 5,000 session events per
// second for 10 s; each event is one host connecting to a random switch, and its latency runs
// from the moment the agent sends it until the host's route has reached every other switch.
// The agents ack every delta, as real ones do. Last line:
//   fanout: p50 <ms> ms, p99 <ms> ms, api-rss <MB> MB
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { restCaller } from "@switchboard/testkit/rest";
import { adminTokenHeaders, startServer } from "@switchboard/testkit/server-process";
import { percentile } from "@switchboard/testkit/stats";
import { sleep, waitFor } from "@switchboard/testkit/wait";
import WebSocket from "ws";

const SWITCHES = Number(process.env.BENCH_SWITCHES ?? 50);
const HOSTS = Number(process.env.BENCH_HOSTS ?? 50_000);
const RATE = Number(process.env.BENCH_RATE ?? 5000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const BATCH_MS = 20;
/** Deadlines that only catch a hang; a busy machine is slow, not stuck. */
const START_DEADLINE_MS = 120_000;
const SNAPSHOT_DEADLINE_MS = 300_000;

const auth: Record<string, string> = {};

const call = restCaller(auth);

interface SimAgent {
  id: string;
  backbone: string;
  socket: WebSocket;
  revision: number;
  ready: boolean;
}

async function rssMb(pid: number): Promise<{ now: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { now: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), "sb-fanout-"));
  const server = startServer({
    DATA_DIR: dataDir,
    LOG_LEVEL: "warn",
    PKI_CA_KEY_TYPE: "ec-p256",
    PKI_LEAF_KEY_TYPE: "ec-p256",
    // e.g. BENCH_API_NODE_OPTIONS=--cpu-prof to profile the API process.
    ...(process.env.BENCH_API_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_API_NODE_OPTIONS } : {}),
  });
  let url: string | undefined;
  let failed: unknown;
  server.ready.then(
    (value) => {
      url = value;
    },
    (error: unknown) => {
      failed = error;
    },
  );
  const base = (
    await waitFor(
      "the API to say it is up",
      () => {
        if (failed) throw failed;
        return url;
      },
      START_DEADLINE_MS,
    )
  ).replace(/\/$/, "");
  const agents: SimAgent[] = [];
  try {
    Object.assign(auth, await adminTokenHeaders(server, base));
    const network = await call("POST", `${base}/api/networks`, {
      name: "fanout",
      dataSubnet: "10.64.0.0/16",
      backboneSubnet: "10.65.0.0/24",
    });
    const switches: { id: string; backboneAddress: string }[] = [];
    for (let i = 0; i < SWITCHES; i++) {
      switches.push(
        await call("POST", `${base}/api/switches`, {
          networkId: network.id,
          name: `sw-${i}`,
          endpointHost: `sw${i}.example.net`,
        }),
      );
    }
    const hosts: { commonName: string; address: string }[] = [];
    for (let start = 0; start < HOSTS; start += 20_000) {
      const rows = Array.from({ length: Math.min(20_000, HOSTS - start) }, (_, i) => ({
        commonName: `h-${start + i}`,
      }));
      await call("POST", `${base}/api/hosts/import`, { networkId: network.id, hosts: rows });
    }
    for (let cursor = ""; ; ) {
      const page = await call("GET", `${base}/api/hosts?networkId=${network.id}&limit=500${cursor}`);
      hosts.push(...page.items);
      if (!page.nextCursor) break;
      cursor = `&cursor=${page.nextCursor}`;
    }
    process.stderr.write(`fanout: ${switches.length} switches, ${hosts.length} hosts; connecting agents\n`);

    // Latency bookkeeping: host /32 -> when it was sent, which backbone address its route must point at, how many peers have it.
    const pending = new Map<string, { sentAt: number; via: string; got: Set<string> }>();
    const latencies: number[] = [];
    const onRoutes = (agent: SimAgent, upserts: { destination: string; via: string }[]) => {
      const now = performance.now();
      for (const route of upserts) {
        const wait = pending.get(route.destination);
        if (!wait || wait.via !== route.via) continue;
        wait.got.add(agent.id);
        if (wait.got.size === switches.length - 1) {
          latencies.push(now - wait.sentAt);
          pending.delete(route.destination);
        }
      }
    };

    const connectStarted = performance.now();
    for (const sw of switches) {
      const { token } = await call("POST", `${base}/api/switches/${sw.id}/enrollment`, {});
      const { credential } = await call("POST", `${base}/api/agent/enroll`, { token }, {});
      const socket = new WebSocket(`${base.replace(/^http/, "ws")}/api/agent/channel`, {
        headers: { authorization: `Bearer ${credential}` },
        maxPayload: 256 * 1024 * 1024,
        perMessageDeflate: false,
      });
      const agent: SimAgent = { id: sw.id, backbone: sw.backboneAddress, socket, revision: 0, ready: false };
      socket.on("open", () =>
        socket.send(
          JSON.stringify({ type: "hello", protocolVersion: 1, agentVersion: "bench", switchId: sw.id, revision: null }),
        ),
      );
      socket.on("message", (data) => {
        const message = JSON.parse(String(data));
        if (message.type === "desired-state" || message.type === "desired-state-delta") {
          agent.revision = message.revision;
          socket.send(JSON.stringify({ type: "ack", revision: message.revision, ok: true, errors: [], resync: false }));
          if (message.type === "desired-state") agent.ready = true;
          else if (message.routes) onRoutes(agent, message.routes.upsert);
        }
      });
      socket.on("error", (error) => process.stderr.write(`agent ${sw.id}: ${error.message}\n`));
      agents.push(agent);
    }
    await waitFor("every agent's first desired state", () => agents.every((a) => a.ready), SNAPSHOT_DEADLINE_MS).catch(
      (error: unknown) => {
        const missing = agents.filter((a) => !a.ready).length;
        throw new Error(
          `${error instanceof Error ? error.message : error} (${missing} of ${agents.length} still without)`,
        );
      },
    );
    process.stderr.write(
      `fanout: ${agents.length} agents have their snapshot after ${((performance.now() - connectStarted) / 1000).toFixed(1)} s; storm starts\n`,
    );

    // The storm: every BATCH_MS, each agent reports its share of connects as one `sessions` message.
    const order = hosts.map((_, i) => i).sort(() => Math.random() - 0.5);
    const total = RATE * SECONDS;
    const perBatch = Math.round((RATE * BATCH_MS) / 1000);
    let sent = 0;
    const started = performance.now();
    while (sent < total) {
      const due = Math.min(total, Math.round(((performance.now() - started) / 1000) * RATE) + perBatch);
      const byAgent = new Map<SimAgent, unknown[]>();
      const now = performance.now();
      for (; sent < due; sent++) {
        const host = hosts[order[sent % order.length] as number] as { commonName: string; address: string };
        const agent = agents[Math.floor(Math.random() * agents.length)] as SimAgent;
        // The API's clock, never ahead of it: a session dated more than 5 s after it arrives is refused.
        const connectedAt = new Date().toISOString();
        pending.set(`${host.address}/32`, { sentAt: now, via: agent.backbone, got: new Set() });
        const session = {
          commonName: host.commonName,
          realAddress: "198.51.100.7:1194",
          virtualAddress: null,
          clientId: sent,
          connectedAt,
          bytesReceived: 0,
          bytesSent: 0,
        };
        const list = byAgent.get(agent) ?? [];
        list.push({ event: "connect", source: "hook", at: connectedAt, session });
        byAgent.set(agent, list);
      }
      for (const [agent, events] of byAgent) agent.socket.send(JSON.stringify({ type: "sessions", events }));
      await sleep(BATCH_MS);
    }
    const stormSeconds = (performance.now() - started) / 1000;
    // Up to 5 s for the last routes; what is still pending then is reported, not waited for.
    for (let i = 0; i < 100 && pending.size > 0; i++) await sleep(50);
    const rss = await rssMb(server.child.pid as number);
    process.stderr.write(
      `fanout: ${sent} events in ${stormSeconds.toFixed(1)} s; ${latencies.length} delivered to all ${switches.length - 1} peers, ${pending.size} not (superseded or lost); api rss peak ${rss.peak.toFixed(0)} MB\n`,
    );
    console.log(
      `fanout: p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, api-rss ${rss.now.toFixed(0)} MB`,
    );
  } finally {
    for (const agent of agents) agent.socket.terminate();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
