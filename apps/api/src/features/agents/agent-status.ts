import type { AgentStatus, SessionClaimConflict } from "@switchboard/shared";
import type { EventLog } from "../../cluster/event-log.ts";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import { notFound } from "../../http/errors.ts";
import { renderNetwork, renderSwitch } from "../configs/render-mapping.ts";
import type { AgentHub } from "./channel/agent-hub.ts";
import { switchRenderError } from "./state/render-check.ts";

/** lastSeenAt is written at most this often per switch: heartbeats must not become database load. */
const ACK_WRITE_EVERY_MS = 1000;
const SEEN_EVERY_MS = 30_000;
/** How often a wait for other instances' acks reads the table. */
const OTHERS_POLL_MS = 200;
/** The cluster event that says a switch's agent status row changed (cluster/event-log.ts). */
export const AGENT_STATUS_EVENT = "agent-status";

/** Told after a switch's agent connected, disconnected, or acked another revision or error. */
export interface AgentStatusListener {
  /** Whether anyone listens now: reading a status back costs a query, not worth it for nobody. */
  readonly listening: boolean;
  changed(networkId: string, status: AgentStatus): void;
}

/**
 * What the API knows of each switch's agent, kept in AgentStatus. "online" in the answer is this
 * instance's live link, or another instance's recent report (a row left online by a crashed
 * instance stops counting once its lastSeenAt is older than `staleAfterMs`).
 */
export function agentStatusStore(
  prisma: PrismaClient,
  hub: AgentHub,
  staleAfterMs: number,
  onChange?: AgentStatusListener,
  /** The switch's last session claim conflict (sessions/claim-conflicts.ts). */
  conflicts?: { lastOf(switchId: string): SessionClaimConflict | null },
  /** Other instances' consoles hear of the change too: they read the row back themselves. */
  cluster?: Pick<EventLog, "append">,
) {
  const lastSeenWrite = new Map<string, number>();
  /** When this instance's connection of each switch began (the AgentStatus row it owns). */
  const connectedAtOf = new Map<string, Date>();
  const writes = new Set<Promise<unknown>>();
  const track = (write: Promise<unknown>) => {
    writes.add(write);
    void write.finally(() => writes.delete(write));
  };
  const pendingAcks = new Map<string, { revisionApplied: number | null; lastError: string | null; lastSeenAt: Date }>();
  /** What listeners last heard per switch, so the many identical acks of a session storm tell nobody. */
  const announced = new Map<string, string>();
  const ackKey = (ack: { revisionApplied: number | null; lastError: string | null }) =>
    JSON.stringify([ack.revisionApplied, ack.lastError]);
  let ackTimer: NodeJS.Timeout | undefined;
  const flushAcks = () => {
    clearTimeout(ackTimer);
    ackTimer = undefined;
    const batch = [...pendingAcks];
    pendingAcks.clear();
    const write = Promise.all(
      batch.map(([switchId, data]) =>
        prisma.agentStatus.updateMany({ where: { switchId }, data }).catch(() => undefined),
      ),
    ).then(() => {
      for (const [switchId, data] of batch) {
        const key = ackKey(data);
        if (announced.get(switchId) === key) continue;
        announced.set(switchId, key);
        announce(switchId);
      }
    });
    track(write);
    return write;
  };
  /** A change of this instance's agents: told here and to the other instances. */
  const announce = (switchId: string) => {
    if (cluster) {
      track(
        cluster.append([{ networkId: null, kind: AGENT_STATUS_EVENT, payload: { switchId } }]).catch(() => undefined),
      );
    }
    tell(switchId);
  };
  /** Reads the status back and hands it to the listener; the read is tracked so shutdown waits for it. */
  const tell = (switchId: string) => {
    if (!onChange?.listening) return;
    track(
      describe(switchId).then(
        ({ networkId, status }) => onChange.changed(networkId, status),
        () => undefined, // The switch is gone: its deletion reaches listeners as a change of its own.
      ),
    );
  };
  const ignoreGone = (error: unknown) => {
    // The switch was deleted while its agent was connected: nothing left to record.
    if ((error as { code?: string }).code === "P2003") return;
    throw error;
  };

  return {
    async connected(switchId: string, agentVersion: string, now = new Date()) {
      lastSeenWrite.set(switchId, now.getTime());
      connectedAtOf.set(switchId, now);
      await prisma.agentStatus
        .upsert({
          where: { switchId },
          create: { switchId, online: true, agentVersion, connectedAt: now, lastSeenAt: now },
          update: { online: true, agentVersion, connectedAt: now, lastSeenAt: now },
        })
        .catch(ignoreGone);
      announce(switchId);
    },

    async disconnected(switchId: string, now = new Date()) {
      lastSeenWrite.delete(switchId);
      // The agent's last ack, still waiting for its batch, goes in with this write: listeners hear the whole status.
      const ack = pendingAcks.get(switchId);
      pendingAcks.delete(switchId);
      if (ack) announced.set(switchId, ackKey(ack));
      const last = ack ? { revisionApplied: ack.revisionApplied, lastError: ack.lastError } : {};
      // Only the row of this instance's connection: the agent may already be connected to another
      // instance (scale-in, failover), whose "online" must not be overwritten by this late close.
      const ours = connectedAtOf.get(switchId);
      connectedAtOf.delete(switchId);
      await prisma.agentStatus.updateMany({
        where: { switchId, ...(ours ? { connectedAt: ours } : {}) },
        data: { ...last, online: false, lastSeenAt: now },
      });
      announce(switchId);
    },

    seen(switchId: string, now = Date.now()) {
      const last = lastSeenWrite.get(switchId) ?? 0;
      if (now - last < SEEN_EVERY_MS) return;
      lastSeenWrite.set(switchId, now);
      track(
        prisma.agentStatus
          .updateMany({ where: { switchId }, data: { lastSeenAt: new Date(now) } })
          .catch(() => undefined),
      );
    },

    /**
     * The network revision an ack reached and its errors (null: none). Acks come many times a
     * second per switch during a session storm, so the latest per switch is kept and written
     * once a second; nothing on the agent's message path waits for the database.
     */
    applied(switchId: string, revisionApplied: number | null, lastError: string | null): void {
      pendingAcks.set(switchId, { revisionApplied, lastError, lastSeenAt: new Date() });
      ackTimer ??= setTimeout(flushAcks, ACK_WRITE_EVERY_MS);
    },

    /** Another instance's agent changed: its row is in the table, tell this instance's listeners. */
    heardFromCluster(switchId: string): void {
      tell(switchId);
    },

    /** Writes the waiting ack records now (shutdown, tests). */
    flush: () => flushAcks(),

    /** Resolves when the fire-and-forget writes are done (before the database closes). */
    async settled() {
      await flushAcks();
      await Promise.allSettled([...writes]);
    },

    /** Whether an instance (this one or another) holds the switch's agent now. */
    async online(switchId: string, now = Date.now()): Promise<boolean> {
      if (hub.get(switchId)) return true;
      const row = await prisma.agentStatus.findUnique({
        where: { switchId },
        select: { online: true, lastSeenAt: true },
      });
      return row?.online === true && row.lastSeenAt !== null && now - row.lastSeenAt.getTime() < staleAfterMs;
    },

    /**
     * Waits until every switch of the network whose agent another instance holds has acked
     * `revision` (their acks reach the table within a second), or the deadline; false then.
     */
    async appliedByOthers(networkId: string, revision: number, timeoutMs: number): Promise<boolean> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const rows = await prisma.agentStatus.findMany({
          where: { online: true, lastSeenAt: { gte: new Date(Date.now() - staleAfterMs) }, switch: { networkId } },
          select: { switchId: true, revisionApplied: true },
        });
        const lagging = rows.filter((row) => !hub.get(row.switchId) && (row.revisionApplied ?? -1) < revision);
        if (lagging.length === 0) return true;
        if (Date.now() >= deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, OTHERS_POLL_MS));
      }
    },

    async get(switchId: string, now = Date.now()): Promise<AgentStatus> {
      // Read-your-writes: acks received before this request are in the row.
      await flushAcks();
      return (await describe(switchId, now)).status;
    },
  };

  async function describe(switchId: string, now = Date.now()): Promise<{ networkId: string; status: AgentStatus }> {
    const sw = await prisma.switch.findUnique({
      where: { id: switchId },
      select: {
        networkId: true,
        network: { include: { switches: true } },
        agentStatus: true,
        agentCredentials: { where: { revokedAt: null }, select: { id: true }, take: 1 },
      },
    });
    if (!sw) throw notFound("switch", switchId);
    const row = sw.agentStatus;
    const recent = row?.lastSeenAt ? now - row.lastSeenAt.getTime() < staleAfterMs : false;
    const status: AgentStatus = {
      switchId,
      online: hub.get(switchId) !== undefined || (row?.online === true && recent),
      agentVersion: row?.agentVersion ?? null,
      revisionDesired: sw.network.revision,
      revisionApplied: row?.revisionApplied ?? null,
      lastError: row?.lastError ?? null,
      renderError: switchRenderError(renderNetwork(sw.network), sw.network.switches.map(renderSwitch), switchId),
      connectedAt: row?.connectedAt?.toISOString() ?? null,
      lastSeenAt: row?.lastSeenAt?.toISOString() ?? null,
      enrolled: sw.agentCredentials.length > 0,
      claimConflict: conflicts?.lastOf(switchId) ?? null,
    };
    return { networkId: sw.networkId, status };
  }
}

export type AgentStatusStore = ReturnType<typeof agentStatusStore>;
