// node --import tsx apps/api/bench/live.ts — how long an operator's console waits to see a host
// come online: from the moment a switch's agent reports the connect on its channel until the
// console's live socket has the `session` message. The real API runs in its own process
// (embedded PGlite, like `pnpm start`); the two agents are raw websockets speaking the agent
// protocol, so the agent's own path (hook or management socket to channel) is left out.
// Hosts connect one at a time, alternating switches (every other event is a roam). Last line:
//   live: session to console p50 <ms> ms, p99 <ms> ms, max <ms> ms; over 1 s: <n>, lost: <n> (target 1000 ms: met|MISSED)
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket } from "@switchboard/testkit/agent/raw-socket";
import { restCaller } from "@switchboard/testkit/rest";
import { adminTokenHeaders, startServer } from "@switchboard/testkit/server-process";
import { ms, percentile } from "@switchboard/testkit/stats";
import { sleep } from "@switchboard/testkit/wait";

const HOSTS = Number(process.env.BENCH_HOSTS ?? 50);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 300);
const TARGET_MS = 1000;
const LOST_MS = 10_000;

const auth: Record<string, string> = {};

const call = restCaller(auth);

function open(url: string, headers: Record<string, string>): Promise<WebSocket> {
  const socket = new WebSocket(url, { headers, perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
  });
}

interface BenchAgent {
  socket: WebSocket;
  /** What this switch has now, by common name: its answer when the API asks it to back a roam. */
  sessions: Map<string, unknown>;
}

/**
 * An agent that says hello, acks every state it is sent and answers the API's session-snapshot
 * request (every roam is a claim the API checks), as a real one does.
 */
async function agent(base: string, switchId: string): Promise<BenchAgent> {
  const { token } = await call("POST", `${base}/api/switches/${switchId}/enrollment`, {});
  const { credential } = await call("POST", `${base}/api/agent/enroll`, { token }, {});
  const socket = await open(`${base.replace(/^http/, "ws")}/api/agent/channel`, {
    authorization: `Bearer ${credential}`,
  });
  const sessions = new Map<string, unknown>();
  const snapshot = new Promise<void>((resolve) => {
    socket.on("message", (data) => {
      const message = JSON.parse(String(data));
      if (message.type === "command" && message.command.kind === "session-snapshot") {
        const takenAt = new Date().toISOString();
        socket.send(JSON.stringify({ type: "session-snapshot", takenAt, sessions: [...sessions.values()] }));
        socket.send(JSON.stringify({ type: "command-result", id: message.id, ok: true }));
        return;
      }
      if (message.type !== "desired-state" && message.type !== "desired-state-delta") return;
      socket.send(JSON.stringify({ type: "ack", revision: message.revision, ok: true, errors: [], resync: false }));
      if (message.type === "desired-state") resolve();
    });
  });
  socket.send(JSON.stringify({ type: "hello", protocolVersion: 1, agentVersion: "bench", switchId, revision: null }));
  await snapshot;
  return { socket, sessions };
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), "sb-bench-live-"));
  const server = startServer({ DATA_DIR: dataDir, PKI_CA_KEY_TYPE: "ec-p256", PKI_LEAF_KEY_TYPE: "ec-p256" });
  const sockets: WebSocket[] = [];
  try {
    const base = (await server.ready).replace(/\/$/, "");
    Object.assign(auth, await adminTokenHeaders(server, base));
    const network = await call("POST", `${base}/api/networks`, {
      name: "bench-live",
      dataSubnet: "10.66.0.0/24",
      backboneSubnet: "10.67.0.0/24",
    });
    const switches: { id: string }[] = [];
    for (const name of ["a", "b"]) {
      switches.push(
        await call("POST", `${base}/api/switches`, { networkId: network.id, name, endpointHost: `${name}.example` }),
      );
    }
    const hosts = Array.from({ length: HOSTS }, (_, i) => `h-${i}`);
    await call("POST", `${base}/api/hosts/import`, {
      networkId: network.id,
      hosts: hosts.map((commonName) => ({ commonName })),
    });
    const agents: BenchAgent[] = [];
    for (const sw of switches) agents.push(await agent(base, sw.id));
    sockets.push(...agents.map((a) => a.socket));

    const feed = await open(`${base.replace(/^http/, "ws")}/api/live`, auth);
    sockets.push(feed);
    const waiting = new Map<string, (at: number) => void>();
    feed.on("message", (data) => {
      const message = JSON.parse(String(data));
      if (message.type === "session") waiting.get(message.session.commonName)?.(performance.now());
    });

    const latencies: number[] = [];
    let lost = 0;
    // Each connect more than a second newer than the last (so every one is news: connected or
    // roamed, never the same session again), yet never ahead of the API's clock (it refuses
    // sessions more than 5 s in its future): the clock starts that far in the past.
    let clock = Date.now() - (EVENTS + 1) * 1001;
    for (let i = 0; i < EVENTS; i++) {
      const commonName = hosts[i % hosts.length] as string;
      const switchAgent = agents[i % agents.length] as BenchAgent;
      clock += 1001;
      const connectedAt = new Date(clock).toISOString();
      const seen = new Promise<number | undefined>((resolve) => {
        waiting.set(commonName, resolve);
        setTimeout(() => resolve(undefined), LOST_MS).unref();
      });
      const session = {
        commonName,
        realAddress: "198.51.100.7:1194",
        virtualAddress: null,
        clientId: i,
        connectedAt,
        bytesReceived: 0,
        bytesSent: 0,
      };
      for (const other of agents) other.sessions.delete(commonName);
      switchAgent.sessions.set(commonName, session);
      const sentAt = performance.now();
      switchAgent.socket.send(
        JSON.stringify({
          type: "sessions",
          events: [
            {
              event: "connect",
              source: "hook",
              at: connectedAt,
              session,
            },
          ],
        }),
      );
      const at = await seen;
      waiting.delete(commonName);
      if (at === undefined) lost += 1;
      else latencies.push(at - sentAt);
      await sleep(10);
    }
    const late = latencies.filter((l) => l > TARGET_MS).length;
    const met = late === 0 && lost === 0;
    feed.close();
    process.stderr.write(`live: ${EVENTS} connects over ${HOSTS} hosts on 2 switches; ${latencies.length} told\n`);
    process.stdout.write(
      `live: session to console p50 ${ms(percentile(latencies, 50))} ms, p99 ${ms(percentile(latencies, 99))} ms, max ${ms(Math.max(...latencies))} ms; over 1 s: ${late}, lost: ${lost} (target ${TARGET_MS} ms: ${met ? "met" : "MISSED"})\n`,
    );
  } finally {
    for (const socket of sockets) socket.terminate();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
