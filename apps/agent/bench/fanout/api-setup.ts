import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { restCaller } from "@switchboard/testkit/rest";
import { adminTokenHeaders, type ServerProcess, startServer } from "@switchboard/testkit/server-process";
import { waitFor } from "@switchboard/testkit/wait";
import pg from "pg";

/** Deadlines that only catch a hang; a busy machine is slow, not stuck. */
const START_DEADLINE_MS = 120_000;

export interface BenchSwitch {
  readonly id: string;
  readonly name: string;
  readonly backboneAddress: string;
}

export interface BenchHost {
  readonly commonName: string;
  readonly address: string;
}

export interface BenchApi {
  /** The first instance (it made the network); `servers` holds every one. */
  readonly server: ServerProcess;
  readonly base: string;
  readonly servers: ServerProcess[];
  /** Each instance's base URL, in the order of `servers`. */
  readonly bases: string[];
  /** Stops every instance and drops the bench's database, if it made one. */
  stop(): Promise<void>;
  readonly switches: BenchSwitch[];
  readonly hosts: BenchHost[];
  /** A one-time enrollment, as `switchboard-agent enroll` does: the agent's credential. */
  enroll(switchId: string): Promise<string>;
}

/**
 * The real API in its own process (main.ts, embedded PGlite in `dataDir`, as `pnpm start`
 * runs it), with one network of `switches` switches and `hosts` hosts made through the REST API.
 * Switch endpoints are TEST-NET-2 style addresses (198.18.x.y) so the agent's route guard never
 * asks DNS; the fake kernels route them over their default route.
 */
export async function startBenchApi(
  dataDir: string,
  switches: number,
  hosts: number,
  instances = 1,
): Promise<BenchApi> {
  // Several instances share one PostgreSQL database (a scratch one, dropped at the end) and one master key.
  const database = instances > 1 || process.env.BENCH_DATABASE === "postgres" ? await createBenchDatabase() : undefined;
  const shared: Record<string, string> = database
    ? { DATABASE_URL: database.url, SWITCHBOARD_MASTER_KEY: randomBytes(32).toString("hex") }
    : {};
  const servers: ServerProcess[] = [];
  const bases: string[] = [];
  for (let i = 0; i < instances; i++) {
    const server = startInstance(instances > 1 ? join(dataDir, `instance-${i}`) : dataDir, shared);
    servers.push(server);
    // The first migrates the database; the others start once it is up.
    bases.push(await upAt(server));
  }
  const server = servers[0] as ServerProcess;
  const base = bases[0] as string;
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await database?.drop();
  };
  const auth: Record<string, string> = {};
  const call = restCaller(auth);
  Object.assign(auth, await adminTokenHeaders(server, base));
  const network = await call("POST", `${base}/api/networks`, {
    name: "fanout",
    dataSubnet: "10.64.0.0/16",
    backboneSubnet: "10.65.0.0/24",
  });
  const made: BenchSwitch[] = [];
  for (let i = 0; i < switches; i++) {
    made.push(
      await call("POST", `${base}/api/switches`, {
        networkId: network.id,
        name: `sw-${i}`,
        endpointHost: `198.18.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`,
      }),
    );
  }
  for (let start = 0; start < hosts; start += 20_000) {
    const rows = Array.from({ length: Math.min(20_000, hosts - start) }, (_, i) => ({ commonName: `h-${start + i}` }));
    await call("POST", `${base}/api/hosts/import`, { networkId: network.id, hosts: rows });
  }
  const listed: BenchHost[] = [];
  for (let cursor = ""; ; ) {
    const page = await call("GET", `${base}/api/hosts?networkId=${network.id}&limit=500${cursor}`);
    listed.push(...page.items.map((h: BenchHost) => ({ commonName: h.commonName, address: h.address })));
    if (!page.nextCursor) break;
    cursor = `&cursor=${page.nextCursor}`;
  }
  return {
    server,
    base,
    servers,
    bases,
    stop,
    switches: made,
    hosts: listed,
    async enroll(switchId) {
      const { token } = await call("POST", `${base}/api/switches/${switchId}/enrollment`, {});
      const { credential } = await call("POST", `${base}/api/agent/enroll`, { token }, {});
      return credential as string;
    },
  };
}

function startInstance(dataDir: string, shared: Record<string, string>): ServerProcess {
  return startServer({
    DATA_DIR: dataDir,
    LOG_LEVEL: "warn",
    PKI_CA_KEY_TYPE: "ec-p256",
    PKI_LEAF_KEY_TYPE: "ec-p256",
    ...shared,
    // e.g. BENCH_API_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the API process.
    ...(process.env.BENCH_API_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_API_NODE_OPTIONS } : {}),
  });
}

async function upAt(server: ServerProcess): Promise<string> {
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
  const base = await waitFor(
    "the API to say it is up",
    () => {
      if (failed) throw failed;
      return url;
    },
    START_DEADLINE_MS,
  );
  return base.replace(/\/$/, "");
}

/** A scratch database on BENCH_DATABASE_URL (default TEST_DATABASE_URL) for several instances. */
async function createBenchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const server = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (!server) throw new Error("--instances needs a PostgreSQL server: set BENCH_DATABASE_URL (or TEST_DATABASE_URL)");
  const name = `sb_bench_${randomBytes(6).toString("hex")}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
