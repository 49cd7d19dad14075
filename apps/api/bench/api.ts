// pnpm bench:api — seeds 10,000 hosts through the real HTTP API on loopback, on embedded PGlite
// and on the real PostgreSQL server, and measures list, filter and create latency under
// concurrent clients, after an unmeasured warm-up of the same requests. The API runs in its own
// process (LOG_LEVEL=warn); the last line is for PostgreSQL:
//   api: list p50 <ms> ms p99 <ms> ms, filter p99 <ms> ms, create p99 <ms> ms, import-10k <s> s
// BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres) names a server where
// the bench may create and drop a scratch database.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminTokenHeaders, startServer } from "@switchboard/testkit/server-process";
import { ms, percentile, timed } from "@switchboard/testkit/stats";
import pg from "pg";

const HOSTS = 10_000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const LIST_REQUESTS = 1000;
const FILTER_REQUESTS = 500;
const CREATE_REQUESTS = 300;
const WARM_UP_REQUESTS = 200;
const adminUrl = process.env.BENCH_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

/** Every request authenticates like automation does: with an API token in the Authorization header. */
const auth: Record<string, string> = {};

async function postJson(url: string, body: unknown, headers: Record<string, string> = auth) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
  return response.json();
}
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
    await postJson(`${base}/api/switches`, {
      networkId: network.id,
      name: "a",
      endpointHost: "a.example",
      dataAddress: "10.64.0.1",
      pool: { start: "10.64.0.2", end: "10.64.0.254" },
    });
    const rows = Array.from({ length: HOSTS }, (_, i) => ({
      commonName: `host-${String(i).padStart(5, "0")}`,
      tags: [i % 10 === 0 ? "db" : "web", `rack-${i % 20}`],
      description: i % 97 === 0 ? "edge gateway" : "",
    }));
    const importStarted = performance.now();
    const imported = await postJson(`${base}/api/hosts/import`, { networkId: network.id, hosts: rows });
    const importSeconds = (performance.now() - importStarted) / 1000;
    if (imported.created !== HOSTS) throw new Error(`imported ${imported.created} hosts, expected ${HOSTS}`);

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
    const create = await timed(CREATE_REQUESTS, CONCURRENCY, async (i) => {
      await postJson(`${base}/api/hosts`, { networkId: network.id, commonName: `new-${i}`, tags: ["bench"] });
    });
    const line = `list p50 ${ms(percentile(list, 50))} ms p99 ${ms(percentile(list, 99))} ms, filter p99 ${ms(percentile(filter, 99))} ms, create p99 ${ms(percentile(create, 99))} ms, import-10k ${importSeconds.toFixed(2)} s`;
    return `${label}: ${line}`;
  } finally {
    await server.stop();
  }
}

async function withScratchDatabase<T>(work: (url: string) => Promise<T>): Promise<T> {
  const name = `sb_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return await work(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

console.log(`seeding ${HOSTS} hosts per database; ${CONCURRENCY} concurrent clients over HTTP on loopback`);
const dataDir = await mkdtemp(join(tmpdir(), "sb-bench-"));
try {
  console.log(await run("api[pglite]", { DATA_DIR: dataDir }));
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
console.log(await withScratchDatabase((url) => run("api", { DATABASE_URL: url })));
