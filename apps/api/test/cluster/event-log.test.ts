import pino from "pino";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type ClusterEvent, EventLog } from "../../src/cluster/event-log.ts";
import type { Database } from "../../src/db/database.ts";
import { describeEachDatabase, openTestDatabase } from "../support/test-database.ts";
import { patiently } from "../support/waits.ts";

const NETWORK = "00000000-0000-4000-8000-000000000001";
const quiet = pino({ level: "silent" });

/** An instance's log and what it was handed, in order. */
function instance(db: Database, name: string, options: { pollMs?: number; retainMs?: number } = {}) {
  const log = new EventLog(db, { instance: name, log: quiet, pollMs: options.pollMs ?? 60_000, ...options });
  const seen: ClusterEvent[] = [];
  log.subscribe((events) => seen.push(...events));
  return { log, seen };
}

const event = (n: number) => ({ networkId: NETWORK, kind: "test", payload: { n } });

describeEachDatabase("cluster event log", (kind) => {
  let db: Database;
  const logs: EventLog[] = [];

  beforeEach(async () => {
    db = await openTestDatabase(kind);
  }, 120_000);
  afterEach(async () => {
    for (const log of logs.splice(0)) await log.stop();
    await db.close();
  });

  async function started(name: string, options: { pollMs?: number; retainMs?: number } = {}) {
    const made = instance(db, name, options);
    logs.push(made.log);
    await made.log.start();
    return made;
  }

  it("hands another instance's events over in order, on the doorbell, and never an instance its own", async () => {
    const a = await started("a");
    const b = await started("b");
    await a.log.append([event(1), event(2)]);
    await a.log.append([event(3)]);
    // The poll is a minute: only the NOTIFY can bring these in time.
    await expect.poll(() => b.seen.map((e) => (e.payload as { n: number }).n), patiently).toEqual([1, 2, 3]);
    expect(b.seen.every((e) => e.instance === "a" && e.networkId === NETWORK && e.kind === "test")).toBe(true);
    await a.log.readNew();
    expect(a.seen).toEqual([]);
  });

  it("starts after what is already in the log: a new instance reads current state from the tables", async () => {
    const a = await started("a");
    await a.log.append([event(1)]);
    const late = await started("late");
    await a.log.append([event(2)]);
    await expect.poll(() => late.seen.map((e) => (e.payload as { n: number }).n), patiently).toEqual([2]);
  });

  it("concurrent writers: every reader sees every event once, in one order, with no gaps", async () => {
    const writers = await Promise.all(["w1", "w2", "w3"].map((name) => started(name)));
    const reader = await started("reader");
    const perWriter = 40;
    await Promise.all(
      writers.map(async (w, index) => {
        for (let n = 0; n < perWriter; n += 1)
          await w.log.append([event(index * 1000 + n), event(index * 1000 + n + 500)]);
      }),
    );
    await expect.poll(() => reader.seen.length, patiently).toBe(writers.length * perWriter * 2);
    const seqs = reader.seen.map((e) => e.seq);
    expect([...seqs].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
    // Each writer's own events arrive in the order it wrote them.
    for (const [index] of writers.entries()) {
      const mine = reader.seen.map((e) => (e.payload as { n: number }).n).filter((n) => Math.floor(n / 1000) === index);
      expect(mine).toEqual(mine.map((_, i) => index * 1000 + Math.floor(i / 2) + (i % 2) * 500));
    }
  });

  it("reads everything past what it saw when the backstop poll runs, without any doorbell", async () => {
    const reader = await started("reader", { pollMs: 100 });
    // Written behind the log's back: no NOTIFY at all.
    await db.prisma.$executeRaw`INSERT INTO "ClusterEvent" ("networkId", "kind", "instance", "payload")
      VALUES (${NETWORK}::uuid, 'test', 'elsewhere', '{"n": 7}'::jsonb)`;
    await expect.poll(() => reader.seen.map((e) => (e.payload as { n: number }).n), patiently).toEqual([7]);
  });

  it("prunes rows older than it keeps", async () => {
    await started("a", { retainMs: 200 });
    await db.prisma.$executeRaw`INSERT INTO "ClusterEvent" ("networkId", "kind", "instance", "payload", "createdAt")
      VALUES (NULL, 'old', 'elsewhere', '{}'::jsonb, now() - interval '1 hour')`;
    await expect
      .poll(
        async () => (await db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM "ClusterEvent"`)[0]?.n,
        patiently,
      )
      .toBe(0);
  });

  if (kind === "postgres") {
    it("a terminated listening connection comes back and reads what was written meanwhile", async () => {
      const a = await started("a");
      const b = await started("b");
      await a.log.append([event(1)]);
      await expect.poll(() => b.seen.length, patiently).toBe(1);
      const terminated = await db.prisma.$queryRaw<{ pid: number }[]>`
        SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`;
      expect(terminated.length).toBe(2);
      await db.prisma.$queryRaw`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND query LIKE 'LISTEN%'`;
      // Written while nobody listens; the poll is a minute, so only the resume can read it.
      await a.log.append([event(2)]);
      await expect.poll(() => b.seen.map((e) => (e.payload as { n: number }).n), patiently).toEqual([1, 2]);
      // And the doorbell rings again on the new connection.
      await expect
        .poll(
          async () =>
            (
              await db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity
                WHERE datname = current_database() AND query LIKE 'LISTEN%'`
            )[0]?.n,
          patiently,
        )
        .toBe(2);
      await a.log.append([event(3)]);
      await expect.poll(() => b.seen.length, patiently).toBe(3);
    });
  }
});
