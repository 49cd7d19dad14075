import { randomUUID } from "node:crypto";
import type { RouteSession, Session, SessionEvents, SessionSnapshot } from "@switchboard/shared";
import type { FastifyBaseLogger } from "fastify";
import { Prisma, type PrismaClient } from "../../../generated/prisma/client.ts";
import type { AgentIdentity } from "../agent-credentials.ts";
import { type LiveSession, LiveSessions, type Reported, type SessionChange } from "./live-sessions.ts";

export interface SessionStoreDeps {
  prisma: PrismaClient;
  log: FastifyBaseLogger;
  /** The host id of a common name in a network (from the dispatcher's view), or undefined for an unknown CN. */
  hostIdOf(networkId: string, commonName: string): string | undefined;
  /** Sessions of these hosts started or ended: their routes must be placed again. */
  onRoutesChanged(networkId: string, commonNames: string[]): void;
  /** Every change of the session table as it happens (the live feed), before it is written. */
  onChanges?(networkId: string, changes: readonly SessionChange[]): void;
  /** Session rows are written in batches this often. */
  flushMs: number;
}

function reported(session: Session): Reported {
  return {
    commonName: session.commonName,
    realAddress: session.realAddress,
    clientId: session.clientId,
    connectedAt: Date.parse(session.connectedAt),
    bytesIn: session.bytesReceived,
    bytesOut: session.bytesSent,
  };
}

/**
 * The API's session table: live sessions per network in memory (the route computation reads
 * them on every tick), written through to the Session table in batches, so thousands of
 * events a second cost a few statements per tick. Restored from the table after a restart.
 */
export class SessionStore {
  private readonly networks = new Map<string, LiveSessions>();
  private readonly loading = new Map<string, Promise<LiveSessions>>();
  private inserts = new Map<string, LiveSession>();
  private updates = new Map<string, LiveSession>();
  private ends = new Map<string, { session: LiveSession; at: number; reason: string }>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: SessionStoreDeps) {}

  /** Loads a network's live sessions from the table once; later calls are free. */
  prepare(networkId: string): Promise<LiveSessions> {
    const known = this.networks.get(networkId);
    if (known) return Promise.resolve(known);
    let loading = this.loading.get(networkId);
    if (!loading) {
      loading = this.load(networkId);
      this.loading.set(networkId, loading);
    }
    return loading;
  }

  routeSessions(networkId: string): RouteSession[] {
    return this.networks.get(networkId)?.routeSessions() ?? [];
  }

  live(networkId: string, commonName: string): LiveSession | undefined {
    return this.networks.get(networkId)?.get(commonName);
  }

  liveSwitch(networkId: string, commonName: string): string | undefined {
    return this.networks.get(networkId)?.get(commonName)?.switchId;
  }

  async events(agent: AgentIdentity, message: SessionEvents): Promise<void> {
    const sessions = await this.prepare(agent.networkId);
    const now = Date.now();
    const changes: SessionChange[] = [];
    for (const event of message.events) {
      const report = reported(event.session);
      if (event.event === "disconnect") {
        changes.push(...sessions.disconnect(agent.switchId, report, now));
        continue;
      }
      const hostId = this.deps.hostIdOf(agent.networkId, report.commonName);
      if (hostId === undefined) {
        this.deps.log.warn({ switchId: agent.switchId }, `session of unknown host ${report.commonName} ignored`);
        continue;
      }
      changes.push(...sessions.connect(agent.switchId, hostId, report, now));
    }
    this.apply(agent.networkId, changes);
  }

  async snapshot(agent: AgentIdentity, message: SessionSnapshot): Promise<void> {
    const sessions = await this.prepare(agent.networkId);
    const known = message.sessions.flatMap((session) => {
      const hostId = this.deps.hostIdOf(agent.networkId, session.commonName);
      return hostId === undefined ? [] : [{ ...reported(session), hostId }];
    });
    this.apply(agent.networkId, sessions.snapshot(agent.switchId, known, Date.now()));
  }

  /** Writes what is pending now; resolves when it is in the table. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const inserts = [...this.inserts.values()];
    const updates = [...this.updates.values()].filter((s) => !this.inserts.has(s.id));
    const ends = [...this.ends.values()];
    this.inserts = new Map();
    this.updates = new Map();
    this.ends = new Map();
    if (inserts.length + updates.length + ends.length === 0) return this.writing;
    this.writing = this.writing
      .then(() => this.write(inserts, updates, ends))
      .catch((error) => this.deps.log.error({ err: error }, "writing sessions failed"));
    return this.writing;
  }

  close(): Promise<void> {
    return this.flush();
  }

  private apply(networkId: string, changes: SessionChange[]): void {
    if (changes.length === 0) return;
    const moved: string[] = [];
    for (const change of changes) {
      if (change.kind === "started") {
        this.inserts.set(change.session.id, change.session);
        moved.push(change.session.commonName);
      } else if (change.kind === "ended") {
        this.ends.set(change.session.id, { session: change.session, at: change.at, reason: change.reason });
        moved.push(change.session.commonName);
      } else {
        this.updates.set(change.session.id, change.session);
      }
    }
    if (moved.length > 0) this.deps.onRoutesChanged(networkId, moved);
    this.deps.onChanges?.(networkId, changes);
    this.timer ??= setTimeout(() => void this.flush(), this.deps.flushMs);
  }

  /**
   * One statement per kind and batch, in plain SQL: Prisma's query compiler costs more per row
   * than the database does, and during a storm these batches are the API's busiest writes.
   */
  private async write(
    inserts: LiveSession[],
    updates: LiveSession[],
    ends: { session: LiveSession; at: number; reason: string }[],
  ): Promise<void> {
    const { prisma } = this.deps;
    for (const chunk of chunks(inserts)) {
      const values = Prisma.join(
        chunk.map(
          (s) =>
            Prisma.sql`(${s.id}, ${s.hostId}, ${s.switchId}, ${s.realAddress}, ${new Date(s.connectedAt).toISOString()}, ${String(s.bytesIn)}, ${String(s.bytesOut)}, ${s.clientId === null ? null : String(s.clientId)})`,
        ),
      );
      // Rows whose host or switch was deleted meanwhile are skipped (their sessions are gone with them).
      await prisma.$executeRaw`
        INSERT INTO "Session" ("id", "hostId", "switchId", "realAddress", "connectedAt", "bytesIn", "bytesOut", "clientId")
        SELECT v.id::uuid, v.host::uuid, v.sw::uuid, v.addr, v.at::timestamptz, v.bi::bigint, v.bo::bigint, v.cid::int
        FROM (VALUES ${values}) AS v(id, host, sw, addr, at, bi, bo, cid)
        WHERE EXISTS (SELECT 1 FROM "Host" h WHERE h.id = v.host::uuid)
          AND EXISTS (SELECT 1 FROM "Switch" w WHERE w.id = v.sw::uuid)
        ON CONFLICT ("id") DO NOTHING`;
    }
    for (const chunk of chunks(updates)) {
      const values = Prisma.join(
        chunk.map(
          (s) =>
            Prisma.sql`(${s.id}, ${s.realAddress}, ${s.clientId === null ? null : String(s.clientId)}, ${String(s.bytesIn)}, ${String(s.bytesOut)})`,
        ),
      );
      await prisma.$executeRaw`
        UPDATE "Session" AS s
        SET "realAddress" = v.addr, "clientId" = v.cid::int, "bytesIn" = v.bi::bigint, "bytesOut" = v.bo::bigint
        FROM (VALUES ${values}) AS v(id, addr, cid, bi, bo)
        WHERE s.id = v.id::uuid`;
    }
    for (const chunk of chunks(ends)) {
      const values = Prisma.join(
        chunk.map(
          ({ session, at, reason }) =>
            Prisma.sql`(${session.id}, ${new Date(at).toISOString()}, ${reason}, ${String(session.bytesIn)}, ${String(session.bytesOut)})`,
        ),
      );
      await prisma.$executeRaw`
        UPDATE "Session" AS s
        SET "disconnectedAt" = v.at::timestamptz, "endReason" = v.reason, "bytesIn" = v.bi::bigint, "bytesOut" = v.bo::bigint
        FROM (VALUES ${values}) AS v(id, at, reason, bi, bo)
        WHERE s.id = v.id::uuid AND s."disconnectedAt" IS NULL`;
    }
  }

  private async load(networkId: string): Promise<LiveSessions> {
    const rows = await this.deps.prisma.session.findMany({
      where: { disconnectedAt: null, switch: { networkId } },
      include: { host: { select: { commonName: true } } },
    });
    const sessions = new LiveSessions(randomUUID);
    sessions.restore(
      rows.map((r) => ({
        id: r.id,
        hostId: r.hostId,
        commonName: r.host.commonName,
        switchId: r.switchId,
        realAddress: r.realAddress,
        connectedAt: r.connectedAt.getTime(),
        bytesIn: Number(r.bytesIn),
        bytesOut: Number(r.bytesOut),
        clientId: r.clientId,
      })),
    );
    this.networks.set(networkId, sessions);
    this.loading.delete(networkId);
    return sessions;
  }
}

/** Batches of at most 500 rows (8 parameters each stays far below Postgres's 65,535). */
function chunks<T>(items: T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
