// pnpm bench:api — seeds 10,000 hosts through the real HTTP API on loopback, on embedded PGlite
// and on the real PostgreSQL server, connects BENCH_AGENTS (default 3) simulated agents that ack
// every frame (acking-agents.ts), and measures list, filter, create, patch and delete latency under
// concurrent clients (closed loop), after an unmeasured warm-up of the same requests. Writes are
// measured again open-loop: BENCH_RATE requests per second (default 20) for BENCH_SECONDS (15),
// each timed from when it was due to be sent, so a server that falls behind shows its queue.
// The API runs in its own process (LOG_LEVEL=warn); the last line is for PostgreSQL:
//   api: list p50 <ms> ms p99 <ms> ms, filter p99 <ms> ms, create p99 <ms> ms, import-10k <s> s,
//     agents <n>, patch p99 <ms> ms, delete p99 <ms> ms, open-loop create p99 <ms> ms,
//     open-loop patch p99 <ms> ms, open-loop delete p99 <ms> ms
// ("create p99" is the closed-loop create with the agents connected.) Smaller runs: BENCH_WRITES
// (requests per closed-loop write phase, default 300), BENCH_HOSTS (default 10,000; the field
// keeps its name), BENCH_ONLY=postgres (skips PGlite).
// BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres) names a server where
// the bench may create and drop a scratch database.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminTokenHeaders, startServer } from "@switchboard/testkit/server-process";
import { ms, percentile, timed } from "@switchboard/testkit/stats";
import { sleep } from "@switchboard/testkit/wait";
import { closeAgents, connectAckingAgents, tally } from "./acking-agents.ts";
import { withScratchDatabase } from "./scratch-database.ts";

const HOSTS = Number(process.env.BENCH_HOSTS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const LIST_REQUESTS = 1000;
const FILTER_REQUESTS = 500;
const CREATE_REQUESTS = Number(process.env.BENCH_WRITES ?? 300);
const WARM_UP_REQUESTS = 200;
const WRITE_WARM_UP_REQUESTS = 40;
const AGENTS = Number(process.env.BENCH_AGENTS ?? 3);
const RATE = Number(process.env.BENCH_RATE ?? 20);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
/** Deadlines that only catch a hang: a busy machine is slow, not stuck. */
const SNAPSHOT_DEADLINE_MS = 120_000;
const REQUEST_DEADLINE_MS = 120_000;

/** Every request authenticates like automation does: with an API token in the Authorization header. */
const auth: Record<string, string> = {};

async function sendJson(method: string, url: string, body: unknown, headers: Record<string, string> = auth) {
  const response = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(REQUEST_DEADLINE_MS),
  });
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? undefined : response.json();
}
const postJson = (url: string, body: unknown, headers: Record<string, string> = auth) =>
  sendJson("POST", url, body, headers);

/** Open loop: request i is due at start + i/RATE s whatever the earlier ones do; its latency runs from then. */
async function openLoop(count: number, task: (i: number) => Promise<void>): Promise<number[]> {
  const started = performance.now();
  const latencies: number[] = [];
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(
      task(i).then(
        () => void latencies.push(performance.now() - due),
        (error: unknown) => {
          // A request past its deadline is a queue the server never caught up with: counted, and
          // kept as its (lower-bound) latency so the percentile shows it.
          if (!(error instanceof DOMException && error.name === "TimeoutError")) throw error;
          timedOut++;
          latencies.push(performance.now() - due);
        },
      ),
    );
  }
  await Promise.all(inFlight);
  return latencies;
}
let timedOut = 0;
async function getJson(url: string) {
  const response = await fetch(url, { headers: auth });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** The API runs as its own process, as in production, so the load generator does not share its event loop. */
async function run(label: string, env: Record<string, string>) {
  const server = startServer({ ...env, LOG_LEVEL: "warn" });
  const base = (await server.ready).replace(/\/$/, "");
  try {
    Object.assign(auth, await adminTokenHeaders(server, base));
    const network = await postJson(`${base}/api/networks`, {
      name: "bench",
      dataSubnet: "10.64.0.0/16",
      backboneSubnet: "10.65.0.0/24",
    });
    const switchIds: string[] = [];
    for (let i = 0; i < Math.max(1, AGENTS); i++) {
      const name = String.fromCharCode(97 + i);
      const sw = await postJson(`${base}/api/switches`, {
        networkId: network.id,
        name,
        endpointHost: `${name}.example`,
        dataAddress: `10.64.0.${1 + i}`,
        ...(i === 0 ? { pool: { start: "10.64.0.32", end: "10.64.0.254" } } : {}),
      });
      switchIds.push(sw.id);
    }
    const rows = Array.from({ length: HOSTS }, (_, i) => ({
      commonName: `host-${String(i).padStart(5, "0")}`,
      tags: [i % 10 === 0 ? "db" : "web", `rack-${i % 20}`],
      description: i % 97 === 0 ? "edge gateway" : "",
    }));
    const importStarted = performance.now();
    const imported = await postJson(`${base}/api/hosts/import`, { networkId: network.id, hosts: rows });
    const importSeconds = (performance.now() - importStarted) / 1000;
    if (imported.created !== HOSTS) throw new Error(`imported ${imported.created} hosts, expected ${HOSTS}`);
    const agents =
      AGENTS > 0 ? await connectAckingAgents(base, auth, switchIds.slice(0, AGENTS), SNAPSHOT_DEADLINE_MS) : [];
    process.stderr.write(`${label}: agents: ${agents.length} simulated, acking (each has its snapshot)\n`);

    // Walk pages in every sort order so cursors deep in the table are measured too.
    const sorts = ["commonName", "address", "createdAt"];
    const cursors: string[] = [""];
    for (let page = 0, cursor = ""; page < 40; page++) {
      const body = await getJson(`${base}/api/hosts?networkId=${network.id}&limit=50&sort=address${cursor}`);
      if (!body.nextCursor) break;
      cursor = `&cursor=${body.nextCursor}`;
      cursors.push(cursor);
    }
    const listRequest = async (i: number) => {
      const sort = sorts[i % sorts.length];
      const cursor = sort === "address" ? cursors[i % cursors.length] : "";
      await getJson(`${base}/api/hosts?networkId=${network.id}&limit=50&sort=${sort}${cursor}`);
    };
    const filters = ["&tag=db", "&search=host-012", "&search=gateway", "&tag=rack-7&enabled=true", "&search=10.64.1"];
    const filterRequest = async (i: number) => {
      await getJson(`${base}/api/hosts?networkId=${network.id}&limit=50${filters[i % filters.length]}`);
    };
    // Unmeasured warm-up of the same mix, as a server that has been up a while would be: the JIT has
    // compiled the hot path and every pooled connection has its statements prepared.
    await timed(WARM_UP_REQUESTS, CONCURRENCY, listRequest);
    await timed(WARM_UP_REQUESTS, CONCURRENCY, filterRequest);
    const list = await timed(LIST_REQUESTS, CONCURRENCY, listRequest);
    const filter = await timed(FILTER_REQUESTS, CONCURRENCY, filterRequest);
    // Writes: every host created here is patched (enabled toggled, which changes its ccd file and
    // routes) and then deleted, so each phase touches what the switches hold.
    let created = 0;
    const createHost = async () => {
      const host = await postJson(`${base}/api/hosts`, {
        networkId: network.id,
        commonName: `new-${created++}`,
        tags: ["bench"],
      });
      return host.id as string;
    };
    const ids: string[] = [];
    const patchHost = async (i: number) => {
      await sendJson("PATCH", `${base}/api/hosts/${ids[i % ids.length]}`, { enabled: i % 2 === 1 });
    };
    const deleteHost = async () => {
      const id = ids.pop();
      if (!id) throw new Error("no host left to delete");
      await sendJson("DELETE", `${base}/api/hosts/${id}`, undefined);
    };
    const warmIds: string[] = [];
    await timed(WRITE_WARM_UP_REQUESTS, CONCURRENCY, async () => void warmIds.push(await createHost()));
    ids.push(...warmIds);
    await timed(WRITE_WARM_UP_REQUESTS, CONCURRENCY, patchHost);
    await timed(WRITE_WARM_UP_REQUESTS, CONCURRENCY, deleteHost);

    const sentBefore = tally(agents);
    const create = await timed(CREATE_REQUESTS, CONCURRENCY, async () => void ids.push(await createHost()));
    const sentForCreates = tally(agents);
    const patch = await timed(CREATE_REQUESTS, CONCURRENCY, patchHost);
    const remove = await timed(CREATE_REQUESTS, CONCURRENCY, deleteHost);
    const openCount = RATE * SECONDS;
    const openCreate = await openLoop(openCount, async () => void ids.push(await createHost()));
    const openPatch = await openLoop(openCount, patchHost);
    const openDelete = await openLoop(openCount, deleteHost);
    closeAgents(agents);
    if (timedOut > 0)
      process.stderr.write(
        `${label}: ${timedOut} open-loop requests passed their ${REQUEST_DEADLINE_MS / 1000} s deadline\n`,
      );
    timedOut = 0;
    const perCreate = (sentForCreates.bytes - sentBefore.bytes) / CREATE_REQUESTS / Math.max(1, agents.length);
    process.stderr.write(
      `${label}: closed loop (${CONCURRENCY} clients) create p50 ${ms(percentile(create, 50))} ms, patch p50 ${ms(percentile(patch, 50))} ms, delete p50 ${ms(percentile(remove, 50))} ms; ` +
        `open loop ${RATE} req/s for ${SECONDS} s: create p50 ${ms(percentile(openCreate, 50))} ms, patch p50 ${ms(percentile(openPatch, 50))} ms, delete p50 ${ms(percentile(openDelete, 50))} ms; ` +
        `agents got ${sentForCreates.deltas - sentBefore.deltas} deltas and ${sentForCreates.snapshots - sentBefore.snapshots} snapshots for ${CREATE_REQUESTS} creates, ${(perCreate / 1024).toFixed(1)} KiB per create per agent\n`,
    );
    const line =
      `list p50 ${ms(percentile(list, 50))} ms p99 ${ms(percentile(list, 99))} ms, filter p99 ${ms(percentile(filter, 99))} ms, create p99 ${ms(percentile(create, 99))} ms, import-10k ${importSeconds.toFixed(2)} s, ` +
      `agents ${agents.length}, patch p99 ${ms(percentile(patch, 99))} ms, delete p99 ${ms(percentile(remove, 99))} ms, ` +
      `open-loop create p99 ${ms(percentile(openCreate, 99))} ms, open-loop patch p99 ${ms(percentile(openPatch, 99))} ms, open-loop delete p99 ${ms(percentile(openDelete, 99))} ms`;
    return `${label}: ${line}`;
  } finally {
    await server.stop();
  }
}

console.log(
  `seeding ${HOSTS} hosts per database; ${CONCURRENCY} concurrent clients over HTTP on loopback; agents: ${AGENTS} simulated, acking`,
);
// BENCH_ONLY=postgres skips the PGlite run (the last line is PostgreSQL's either way).
if (process.env.BENCH_ONLY !== "postgres") {
  const dataDir = await mkdtemp(join(tmpdir(), "sb-bench-"));
  try {
    console.log(await run("api[pglite]", { DATA_DIR: dataDir }));
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
console.log(await withScratchDatabase("sb_bench", (url) => run("api", { DATABASE_URL: url })));
