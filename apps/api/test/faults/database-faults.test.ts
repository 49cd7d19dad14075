import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type SwitchSim, startSwitchSim } from "@switchboard/testkit/agent/switch-sim";
import { startTestAgent, type TestAgent } from "@switchboard/testkit/agent/test-agent";
import { describeNeeding } from "@switchboard/testkit/needs";
import { type OwnPostgres, startOwnPostgres } from "@switchboard/testkit/own-postgres";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it, vi } from "vitest";
import { openDatabase } from "../../src/db/database.ts";
import { enrollSwitch, type LiveApi, networkWithSwitches, startLiveApiOn } from "../support/live-api.ts";
import { patiently } from "../support/waits.ts";

/**
 * The fault matrix: a PostgreSQL server of the test's own is stopped, started, locked and has its
 * backends terminated under a running API with real agents. Rule under test: no state that only
 * a restart repairs, and a database outage is a 503 with Retry-After, never a 500.
 */
describeNeeding(["postgresql-server"], "database faults heal themselves [own postgres]", () => {
  let server: OwnPostgres;
  let live: LiveApi;
  let sims: SwitchSim[] = [];
  let agents: TestAgent[] = [];
  let admin: pg.Client | undefined;
  let database = 0;

  beforeAll(async () => {
    server = await startOwnPostgres();
  }, 180_000);
  afterAll(() => server?.destroy());

  beforeEach(async () => {
    // A database per test on the one server, so each starts empty.
    database += 1;
    const name = `faults_${database}`;
    await query(server.url, `CREATE DATABASE ${name}`);
    const url = server.url.replace(/\/postgres$/, `/${name}`);
    live = await startLiveApiOn(await openDatabase({ kind: "postgres", url }), { pollMs: 300 });
  }, 120_000);
  afterEach(async () => {
    await admin?.end().catch(() => undefined);
    admin = undefined;
    for (const agent of agents) await agent.destroy();
    for (const sim of sims) {
      await sim.close();
      rmSync(sim.baseDir, { recursive: true, force: true });
    }
    agents = [];
    sims = [];
    await live.close().catch(() => undefined);
  });

  /** A network with one switch and one host; the switch enrolled, its agent not started yet. */
  async function oneSwitch() {
    const { networkId, switches } = await networkWithSwitches(live.api, 1);
    const switchId = switches[0] as string;
    const host = await live.api.post("/api/hosts", { networkId, commonName: "web-1" });
    expect(host.status).toBe(201);
    const credential = await enrollSwitch(live, switchId);
    const sim = await startSwitchSim();
    sims.push(sim);
    const start = async () => {
      const agent = await startTestAgent({ api: live.url, credential, switchId, baseDir: sim.baseDir });
      agents.push(agent);
      return agent;
    };
    return { networkId, switchId, sim, start };
  }

  /** Locks a table from a connection of the test's own until `release`. */
  async function lockTable(table: string) {
    admin = new pg.Client({ connectionString: liveUrl() });
    await admin.connect();
    await admin.query("BEGIN");
    await admin.query(`LOCK TABLE "${table}" IN ACCESS EXCLUSIVE MODE`);
    const client = admin;
    return { release: () => client.query("COMMIT") };
  }

  /** Waits until one of the API's queries waits on the lock, then terminates that backend. */
  async function terminateBlockedQuery(table: string) {
    const blocked = await vi.waitFor(async () => {
      const rows = await query(
        liveUrl(),
        `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%"${table}"%' AND pid <> pg_backend_pid()`,
      );
      expect(rows.length, `an API query waiting on the lock of ${table}`).toBeGreaterThan(0);
      return rows.map((row) => Number(row.pid));
    }, patiently);
    for (const pid of blocked) await query(liveUrl(), `SELECT pg_terminate_backend(${pid})`);
  }

  function liveUrl(): string {
    return server.url.replace(/\/postgres$/, `/faults_${database}`);
  }

  it("answers 503 with Retry-After while PostgreSQL is down, and serves again once it is back", async () => {
    const { networkId } = await oneSwitch();
    server.stop();
    try {
      for (const request of [
        () => live.api.get("/api/hosts"),
        () => live.api.post("/api/hosts", { networkId, commonName: "web-2" }),
      ]) {
        const response = await request();
        expect(response.status, response.text).toBe(503);
        expect(response.headers["retry-after"]).toBe("2");
        expect(response.body.message).toMatch(/database is unavailable/);
      }
    } finally {
      server.start();
    }
    // The pool replaces its dead connections by itself: no restart.
    await vi.waitFor(async () => expect((await live.api.get("/api/hosts")).status).toBe(200), patiently);
    const created = await live.api.post("/api/hosts", { networkId, commonName: "web-2" });
    expect(created.status, created.text).toBe(201);
  });

  it("terminated backends cost one retryable answer at most, never a wedged API", async () => {
    await oneSwitch();
    await query(
      liveUrl(),
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database()",
    );
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await live.api.get("/api/hosts")).status);
    expect(
      statuses.every((status) => status === 200 || status === 503),
      statuses.join(","),
    ).toBe(true);
    expect(statuses.at(-1)).toBe(200);
  });

  it("writes the session changes reported while PostgreSQL was down once it is back", async () => {
    const { sim, start, networkId } = await oneSwitch();
    const agent = await start();
    const sent = vi.spyOn(agent.channel, "send");
    await vi.waitFor(
      () => expect(sim.management.connections, "the agent's management connection").toBeGreaterThan(0),
      patiently,
    );
    await vi.waitFor(
      () => expect(existsSync(join(sim.baseDir, "ccd/web-1")), "web-1's ccd file").toBe(true),
      patiently,
    );
    server.stop();
    try {
      sim.connect("web-1", 7, Math.floor(Date.now() / 1000));
      // The agent reported it to the API, which could not write it.
      await vi.waitFor(
        () => expect(JSON.stringify(sent.mock.calls), "the agent's report of web-1's session").toContain("web-1"),
        patiently,
      );
      // Long enough for several failed batch writes (flush every ~100 ms, retries backing off).
      await new Promise((resolve) => setTimeout(resolve, 1500));
    } finally {
      server.start();
    }
    await vi.waitFor(
      async () => {
        const rows = await query(
          liveUrl(),
          `SELECT s.id FROM "Session" s JOIN "Host" h ON h.id = s."hostId" WHERE h."commonName" = 'web-1' AND s."disconnectedAt" IS NULL`,
        );
        expect(rows.length, "web-1's session row").toBe(1);
      },
      { timeout: 30_000, interval: 200 },
    );
    const listed = await live.api.get(`/api/sessions?networkId=${networkId}`);
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body)).toContain("web-1");
  });

  it("a failed first read of a network's sessions is tried again: the agent still gets its config", async () => {
    const { sim, start } = await oneSwitch();
    const lock = await lockTable("Session");
    await start();
    await terminateBlockedQuery("Session");
    await lock.release();
    await vi.waitFor(
      () => expect(existsSync(join(sim.baseDir, "ccd/web-1")), "web-1's ccd file on the switch").toBe(true),
      { timeout: 30_000, interval: 100 },
    );
  });

  it("a database error during an agent's hello closes its socket, and the agent is served on reconnect", async () => {
    const { sim, start, switchId } = await oneSwitch();
    const lock = await lockTable("AgentStatus");
    await start();
    await terminateBlockedQuery("AgentStatus");
    await lock.release();
    await vi.waitFor(
      () => expect(existsSync(join(sim.baseDir, "ccd/web-1")), "web-1's ccd file on the switch").toBe(true),
      { timeout: 30_000, interval: 100 },
    );
    const status = await live.api.get(`/api/switches/${switchId}/status`);
    expect(status.status).toBe(200);
    expect(status.body.online).toBe(true);
  });
});

async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}
