import type { FastifyBaseLogger } from "fastify";
import type { Database } from "../db/database.ts";
import type { Listening } from "../db/notifications.ts";
import { Prisma } from "../generated/prisma/client.ts";

/** One event between instances, as written and as read back. */
export interface ClusterEvent {
  seq: bigint;
  networkId: string | null;
  kind: string;
  instance: string;
  payload: unknown;
}

export type NewClusterEvent = Pick<ClusterEvent, "networkId" | "kind" | "payload">;

export interface EventLogOptions {
  /** This instance's name in the log; events it wrote are not handed back to it. */
  instance: string;
  log: FastifyBaseLogger;
  /** The backstop: read the log this often even without a doorbell (a lost NOTIFY costs at most this). */
  pollMs?: number;
  /** Rows older than this are deleted (the log is for instances that are up, not an archive). */
  retainMs?: number;
}

export const EVENTS_CHANNEL = "switchboard_events";
/** Every writer takes this advisory lock for its transaction, so sequences commit in order. */
const WRITE_LOCK = 7_358_201;
const READ_BATCH = 1000;

/**
 * Events between API instances, with PostgreSQL as the only shared part: the table is the log,
 * LISTEN/NOTIFY the doorbell. A writer appends a batch in one transaction under one advisory
 * lock (so a reader that has seen sequence N has seen everything below it: no event can commit
 * later with a smaller number) and rings with `<networkId>:<seq>`, far below NOTIFY's 8000-byte
 * limit. A reader reads everything past the last sequence it saw: on the doorbell, when its
 * listening connection comes back, and on the backstop poll. Events are at least "after start":
 * a starting instance reads current state from the tables and the log only from then on.
 */
export class EventLog {
  private lastSeen = -1n;
  private readonly handlers = new Set<(events: ClusterEvent[]) => void>();
  private listening: Listening | undefined;
  private poll: NodeJS.Timeout | undefined;
  private prune: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private readAgain = false;
  private stopped = false;

  constructor(
    private readonly db: Database,
    private readonly options: EventLogOptions,
  ) {}

  async start(): Promise<void> {
    const [row] = await this.db.prisma.$queryRaw<
      { last: bigint | null }[]
    >`SELECT max("seq") AS last FROM "ClusterEvent"`;
    this.lastSeen = row?.last ?? 0n;
    const ring = () => void this.readNew();
    this.listening = await this.db.listen(EVENTS_CHANNEL, {
      onNotify: ring,
      onResumed: ring,
      onLost: (error) => this.options.log.warn({ err: error }, "cluster events: doorbell lost; reconnecting"),
    });
    this.poll = setInterval(ring, this.options.pollMs ?? 1000);
    this.poll.unref();
    const retainMs = this.options.retainMs ?? 10 * 60_000;
    this.prune = setInterval(() => void this.pruneOld(retainMs), Math.min(retainMs, 60_000));
    this.prune.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poll);
    clearInterval(this.prune);
    await this.listening?.close();
    await this.reading;
  }

  /** Handed every batch of other instances' events, in sequence order. */
  subscribe(handler: (events: ClusterEvent[]) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Appends a batch in one transaction and rings once; resolves when it is committed. */
  async append(events: readonly NewClusterEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db.prisma.$transaction((tx) => this.appendIn(tx, events));
  }

  /**
   * Appends within the caller's transaction (its other writes and these events commit together,
   * so a reader that sees the events also sees the rows). The doorbell rings at commit: NOTIFY
   * is transactional.
   */
  async appendIn(tx: Prisma.TransactionClient, events: readonly NewClusterEvent[]): Promise<void> {
    if (events.length === 0) return;
    const { instance } = this.options;
    const rows = Prisma.join(
      events.map(
        (e) => Prisma.sql`(${e.networkId}::uuid, ${e.kind}, ${instance}, ${JSON.stringify(e.payload)}::jsonb)`,
      ),
    );
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${WRITE_LOCK})`;
    const [last] = await tx.$queryRaw<{ seq: bigint }[]>`
      WITH written AS (
        INSERT INTO "ClusterEvent" ("networkId", "kind", "instance", "payload") VALUES ${rows} RETURNING "seq"
      )
      SELECT max("seq") AS "seq" FROM written`;
    const doorbell = `${events[0]?.networkId ?? "-"}:${last?.seq ?? ""}`;
    await tx.$executeRaw`SELECT pg_notify(${EVENTS_CHANNEL}, ${doorbell})`;
  }

  /** One read at a time; a ring during a read reads again after it. */
  readNew(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.reading) {
      this.readAgain = true;
      return this.reading;
    }
    this.reading = this.readLoop().finally(() => {
      this.reading = undefined;
      if (this.readAgain) {
        this.readAgain = false;
        void this.readNew();
      }
    });
    return this.reading;
  }

  private async readLoop(): Promise<void> {
    try {
      for (;;) {
        const rows = await this.db.prisma.$queryRaw<ClusterEvent[]>`
          SELECT "seq", "networkId"::text AS "networkId", "kind", "instance", "payload"
          FROM "ClusterEvent" WHERE "seq" > ${this.lastSeen} ORDER BY "seq" LIMIT ${READ_BATCH}`;
        if (rows.length === 0) return;
        this.lastSeen = rows[rows.length - 1]?.seq ?? this.lastSeen;
        const others = rows.filter((row) => row.instance !== this.options.instance);
        if (others.length > 0) this.deliver(others);
        if (rows.length < READ_BATCH) return;
      }
    } catch (error) {
      // The next ring or poll tries again from the same sequence: nothing is skipped.
      this.options.log.warn({ err: error }, "cluster events: reading the log failed");
    }
  }

  private deliver(events: ClusterEvent[]): void {
    for (const handler of this.handlers) {
      try {
        handler(events);
      } catch (error) {
        this.options.log.error({ err: error }, "cluster events: a handler failed");
      }
    }
  }

  private async pruneOld(retainMs: number): Promise<void> {
    const before = new Date(Date.now() - retainMs);
    await this.db.prisma.$executeRaw`DELETE FROM "ClusterEvent" WHERE "createdAt" < ${before}`.catch((error) =>
      this.options.log.warn({ err: error }, "cluster events: pruning failed"),
    );
  }
}
