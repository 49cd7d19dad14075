import { randomUUID } from "node:crypto";
import type { RouteSession, Session, SessionEvents, SessionSnapshot } from "@switchboard/shared";
import type { FastifyBaseLogger } from "fastify";
import type { EventLog, NewClusterEvent } from "../../../cluster/event-log.ts";
import { Prisma, type PrismaClient } from "../../../generated/prisma/client.ts";
import type { AgentIdentity } from "../agent-credentials.ts";
import { claimProblem } from "./claim-rules.ts";
import {
  type ClaimConflict,
  type EndReason,
  type LiveSession,
  LiveSessions,
  type Reported,
  type SessionChange,
} from "./live-sessions.ts";
import { SESSIONS_EVENT, type WireBatch, wireBatch } from "./session-wire.ts";

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
  /** False when the switch's reports are not to be believed now (it is disabled). Default: all are. */
  acceptsClaimsFrom?(networkId: string, switchId: string): boolean;
  /** Asks the switch's agent for a snapshot from a fresh status 3; resolves when it answered or gave up. */
  requestSnapshot?(switchId: string, timeoutMs: number): Promise<unknown>;
  /** A claim the store withdrew, or a host two switches list (claim-conflicts.ts tells people). */
  onConflict?(networkId: string, conflict: ClaimConflict): void;
  /** How long a takeover may wait for its switch's snapshot before it is withdrawn (default 10 s). */
  corroborateWithinMs?: number;
  /**
   * Other API instances on the same database (cluster/event-log.ts): each batch of session rows is
   * written together with its changes as one event, in one transaction, for them to mirror.
   */
  share?: Pick<EventLog, "appendIn">;
}

interface PendingEnd {
  networkId: string;
  session: LiveSession;
  at: number;
  reason: EndReason;
}

interface Pending {
  networkId: string;
  session: LiveSession;
}

/** What the store refused of one message, to tell the agent (field paths like the REST errors'). */
export type Refusals = string[];

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
  private inserts = new Map<string, Pending>();
  private updates = new Map<string, Pending>();
  private ends = new Map<string, PendingEnd>();
  /** Other instances' batches for networks still loading, applied once the load is done. */
  private readonly mirrorLater = new Map<string, WireBatch[]>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** Failed writes in a row: the next retry waits longer (the database may be down for a while). */
  private failedWrites = 0;
  private closed = false;
  /** Deadlines of unconfirmed takeovers, by session id. */
  private readonly claimDeadlines = new Map<string, NodeJS.Timeout>();
  /** Switches asked for a snapshot and not done answering; those to ask again once they are. */
  private readonly asking = new Set<string>();
  private readonly askAgain = new Set<string>();

  constructor(private readonly deps: SessionStoreDeps) {}

  /**
   * Loads a network's live sessions from the table once; later calls are free. A failed read is
   * forgotten, so the next caller tries again (a cached failure would leave the network's agents
   * without config or routes until a restart).
   */
  prepare(networkId: string): Promise<LiveSessions> {
    const known = this.networks.get(networkId);
    if (known) return Promise.resolve(known);
    let loading = this.loading.get(networkId);
    if (!loading) {
      loading = this.load(networkId).finally(() => this.loading.delete(networkId));
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

  async events(agent: AgentIdentity, message: SessionEvents): Promise<Refusals> {
    const sessions = await this.prepare(agent.networkId);
    if (!this.believes(agent)) return [`switch ${agent.switchName} is disabled: its session reports are ignored`];
    const now = Date.now();
    const changes: SessionChange[] = [];
    const refusals: Refusals = [];
    message.events.forEach((event, index) => {
      const report = reported(event.session);
      if (event.event === "disconnect") {
        changes.push(...sessions.disconnect(agent.switchId, report, now, event.source === "status"));
        return;
      }
      const problem = claimProblem(report, now);
      if (problem) {
        refusals.push(`events[${index}].session.${problem}`);
        return;
      }
      const hostId = this.deps.hostIdOf(agent.networkId, report.commonName);
      if (hostId === undefined) {
        this.deps.log.warn({ switchId: agent.switchId }, `session of unknown host ${report.commonName} ignored`);
        return;
      }
      changes.push(...sessions.connect(agent.switchId, hostId, report, now));
    });
    this.apply(agent.networkId, changes);
    return refusals;
  }

  async snapshot(agent: AgentIdentity, message: SessionSnapshot): Promise<Refusals> {
    const sessions = await this.prepare(agent.networkId);
    if (!this.believes(agent)) return [`switch ${agent.switchName} is disabled: its session reports are ignored`];
    const now = Date.now();
    const refusals: Refusals = [];
    const known = message.sessions.flatMap((session, index) => {
      const report = reported(session);
      const problem = claimProblem(report, now);
      if (problem) {
        refusals.push(`sessions[${index}].${problem}`);
        return [];
      }
      const hostId = this.deps.hostIdOf(agent.networkId, session.commonName);
      return hostId === undefined ? [] : [{ ...report, hostId }];
    });
    this.apply(agent.networkId, sessions.snapshot(agent.switchId, known, now));
    return refusals;
  }

  /** The switch is no longer believed (credential revoked, switch disabled): its sessions end and its claims go back. */
  async endSwitch(switchId: string, reason: "revoked" | "disabled", networkId?: string): Promise<void> {
    const ids = networkId ? [networkId] : [...this.networks.keys()];
    for (const id of ids) {
      const sessions = await this.prepare(id);
      this.apply(id, sessions.endSwitch(switchId, reason, Date.now()));
    }
  }

  /** Ends the host's session in the table (an admin's "clear session"); returns what it ended. */
  async clear(networkId: string, commonName: string): Promise<LiveSession[]> {
    const sessions = await this.prepare(networkId);
    const changes = sessions.clear(commonName, Date.now());
    this.apply(networkId, changes);
    return changes.flatMap((change) => (change.kind === "ended" ? [change.session] : []));
  }

  private believes(agent: AgentIdentity): boolean {
    return this.deps.acceptsClaimsFrom?.(agent.networkId, agent.switchId) ?? true;
  }

  /**
   * An unconfirmed takeover: ask its switch for status 3 now, and withdraw it if no answer backs it
   * in time, counted from the claim's first session (reconnecting does not buy a switch more time).
   */
  private awaitCorroboration(networkId: string, session: LiveSession, since: number): void {
    const within = this.deps.corroborateWithinMs ?? 10_000;
    const deadline = setTimeout(
      () => {
        this.claimDeadlines.delete(session.id);
        const sessions = this.networks.get(networkId);
        const reason = `it did not answer with a status 3 snapshot within ${within / 1000} s`;
        if (sessions) this.apply(networkId, sessions.expire(session.commonName, session.id, reason, Date.now()));
      },
      Math.max(0, since + within - Date.now()),
    );
    deadline.unref();
    this.claimDeadlines.set(session.id, deadline);
    this.askForSnapshot(networkId, session.switchId);
  }

  /** One request per switch at a time: a switch making claims in a loop costs one status 3 per answer. */
  private askForSnapshot(networkId: string, switchId: string): void {
    const { requestSnapshot } = this.deps;
    if (!requestSnapshot) return;
    if (this.asking.has(switchId)) {
      this.askAgain.add(switchId);
      return;
    }
    this.asking.add(switchId);
    const within = this.deps.corroborateWithinMs ?? 10_000;
    void requestSnapshot(switchId, within)
      .catch(() => undefined)
      .finally(() => {
        this.asking.delete(switchId);
        if (this.askAgain.delete(switchId) && this.networks.get(networkId)?.hasClaims(switchId)) {
          this.askForSnapshot(networkId, switchId);
        }
      });
  }

  /** Writes what is pending now; resolves when it is in the table (or put back for a retry). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.writing = this.writing.then(() => this.writePending());
    return this.writing;
  }

  /**
   * Takes what is pending when its turn comes, not when it was asked for: a batch that failed is
   * back in the queue before the next one is taken, so a session's end is never written ahead
   * of its start.
   */
  private async writePending(): Promise<void> {
    const inserts = [...this.inserts.values()];
    const updates = [...this.updates.values()].filter((u) => !this.inserts.has(u.session.id));
    const ends = [...this.ends.values()];
    this.inserts = new Map();
    this.updates = new Map();
    this.ends = new Map();
    if (inserts.length + updates.length + ends.length === 0) return;
    try {
      await this.write(inserts, updates, ends);
      this.wrote();
    } catch (error) {
      this.writeFailed(error, inserts, updates, ends);
    }
  }

  close(): Promise<void> {
    this.closed = true;
    for (const deadline of this.claimDeadlines.values()) clearTimeout(deadline);
    this.claimDeadlines.clear();
    return this.flush();
  }

  private wrote(): void {
    if (this.failedWrites > 0) this.deps.log.info({ after: this.failedWrites }, "writing sessions works again");
    this.failedWrites = 0;
  }

  /**
   * The batch goes back in the queue (behind anything newer for the same session) and is tried
   * again with a growing pause: every statement is idempotent, so a batch that half-failed is
   * safe to write again. Until then the table lags; the live table in memory, and routes, do not.
   */
  private writeFailed(error: unknown, inserts: Pending[], updates: Pending[], ends: PendingEnd[]): void {
    this.failedWrites += 1;
    const retryMs = Math.min(this.deps.flushMs * 2 ** this.failedWrites, MAX_RETRY_MS);
    this.deps.log.error(
      { err: error, attempt: this.failedWrites, retryMs, rows: inserts.length + updates.length + ends.length },
      "writing sessions failed; will retry",
    );
    for (const insert of inserts) if (!this.inserts.has(insert.session.id)) this.inserts.set(insert.session.id, insert);
    for (const update of updates) if (!this.updates.has(update.session.id)) this.updates.set(update.session.id, update);
    for (const end of ends) if (!this.ends.has(end.session.id)) this.ends.set(end.session.id, end);
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), retryMs);
  }

  private dropDeadline(sessionId: string): void {
    clearTimeout(this.claimDeadlines.get(sessionId));
    this.claimDeadlines.delete(sessionId);
  }

  /** Changes this instance decided (its agents' reports, its timers, its admins): written, shared, announced. */
  private apply(networkId: string, changes: SessionChange[]): void {
    if (changes.length === 0) return;
    for (const change of changes) {
      switch (change.kind) {
        case "started":
          this.inserts.set(change.session.id, { networkId, session: change.session });
          if (change.session.claim) this.awaitCorroboration(networkId, change.session, change.session.claim.since);
          break;
        case "ended":
          this.queueEnd(networkId, change);
          this.dropDeadline(change.session.id);
          break;
        case "updated":
          this.updates.set(change.session.id, { networkId, session: change.session });
          break;
        case "confirmed":
          this.dropDeadline(change.session.id);
          // Other instances learn the claim is settled from the update.
          this.updates.set(change.session.id, { networkId, session: change.session });
          // Does the switch the host came from still list it? Then two switches claim it at once.
          if (change.displaced) this.askForSnapshot(networkId, change.displaced.switchId);
          break;
        case "conflict":
          this.deps.onConflict?.(networkId, change.conflict);
          break;
      }
    }
    this.announce(networkId, changes);
    this.timer ??= setTimeout(() => void this.flush(), this.deps.flushMs);
  }

  /** Routes to place again and the live feed, for changes of this instance and mirrored ones alike. */
  private announce(networkId: string, changes: SessionChange[]): void {
    if (changes.length === 0) return;
    const moved = changes.flatMap((c) => (c.kind === "started" || c.kind === "ended" ? [c.session.commonName] : []));
    if (moved.length > 0) this.deps.onRoutesChanged(networkId, moved);
    this.deps.onChanges?.(networkId, changes);
  }

  /**
   * One statement per kind and batch, in plain SQL: Prisma's query compiler costs more per row
   * than the database does, and during a storm these batches are the API's busiest writes.
   */
  private async write(inserts: Pending[], updates: Pending[], ends: PendingEnd[]): Promise<void> {
    const { share } = this.deps;
    if (!share) return this.writeRows(this.deps.prisma, inserts, updates, ends);
    // Rows and the event that tells other instances about them commit together, or not at all.
    await this.deps.prisma.$transaction(
      async (tx) => {
        await this.writeRows(tx, inserts, updates, ends);
        await share.appendIn(tx, sharedBatches(inserts, updates, ends));
      },
      { timeout: 60_000, maxWait: 30_000 },
    );
  }

  private async writeRows(
    prisma: Prisma.TransactionClient,
    inserts: Pending[],
    updates: Pending[],
    ends: PendingEnd[],
  ): Promise<void> {
    for (const chunk of chunks(inserts.map((insert) => insert.session))) {
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
    for (const chunk of chunks(updates.map((update) => update.session))) {
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

  /**
   * Another instance's batch for this network. A network not loaded here is left alone: its load
   * reads the table, which holds the batch (written in the same transaction as the event). One
   * loading now gets it after the load (mirroring is idempotent, so a batch the load already
   * read changes nothing).
   */
  mirror(networkId: string, batch: WireBatch): void {
    const sessions = this.networks.get(networkId);
    if (!sessions) {
      if (this.loading.has(networkId))
        this.mirrorLater.set(networkId, [...(this.mirrorLater.get(networkId) ?? []), batch]);
      return;
    }
    const { mirrored, retired } = sessions.mirror(batch, Date.now());
    this.announce(networkId, [...mirrored, ...retired]);
    for (const change of retired) if (change.kind === "ended") this.queueEnd(networkId, change);
    if (retired.length > 0) this.timer ??= setTimeout(() => void this.flush(), this.deps.flushMs);
  }

  private queueEnd(networkId: string, change: { session: LiveSession; at: number; reason: EndReason }): void {
    this.ends.set(change.session.id, { networkId, session: change.session, at: change.at, reason: change.reason });
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
    const later = this.mirrorLater.get(networkId) ?? [];
    this.mirrorLater.delete(networkId);
    for (const batch of later) this.mirror(networkId, batch);
    return sessions;
  }
}

/** One event per network: what this batch wrote, for the other instances to mirror. */
function sharedBatches(inserts: Pending[], updates: Pending[], ends: PendingEnd[]): NewClusterEvent[] {
  const networks = new Set([...inserts, ...updates, ...ends].map((pending) => pending.networkId));
  return [...networks].map((networkId) => {
    const mine = <T extends { networkId: string }>(items: T[]) => items.filter((item) => item.networkId === networkId);
    const payload = wireBatch(
      mine(inserts).map((insert) => insert.session),
      mine(updates).map((update) => update.session),
      mine(ends),
    );
    return { networkId, kind: SESSIONS_EVENT, payload };
  });
}

/** The longest pause between retries of a failed session write. */
const MAX_RETRY_MS = 5_000;

/** Batches of at most 500 rows (8 parameters each stays far below Postgres's 65,535). */
function chunks<T>(items: T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
