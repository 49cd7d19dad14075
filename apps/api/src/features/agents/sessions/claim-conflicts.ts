import type { LiveMessage, SessionClaimConflict } from "@switchboard/shared";
import type { FastifyBaseLogger } from "fastify";
import { inTransaction } from "../../../db/transactions.ts";
import type { PrismaClient } from "../../../generated/prisma/client.ts";
import { recordAudit } from "../../audit/audit-log.ts";
import { agentActor } from "../agent-credentials.ts";
import type { ClaimConflict } from "./live-sessions.ts";

/** Conflicts kept for GET /api/sessions/conflicts (this instance's and those other instances told). */
const KEEP = 200;
/**
 * Audit rows and live messages per claiming switch and window. A compromised switch can make
 * and lose claims as fast as it can answer; past this it is only logged (and its status says so).
 */
export const CONFLICTS_TOLD_PER_WINDOW = 20;
const WINDOW_MS = 10 * 60_000;

/**
 * Tells people about session claims the API did not simply believe: an audit row (actor: the
 * claiming switch's agent), a `session-conflict` message on the live feed, the claiming switch's
 * status, and the recent list.
 */
export function claimConflicts(deps: {
  prisma: PrismaClient;
  publish(message: LiveMessage): void;
  log: FastifyBaseLogger;
  /** Other instances hear of each conflict this one tells (within the same budget). */
  share?(record: SessionClaimConflict): void;
}) {
  const recent: SessionClaimConflict[] = [];
  const lastBySwitch = new Map<string, SessionClaimConflict>();
  const told = new Map<string, { since: number; count: number }>();
  const writes = new Set<Promise<unknown>>();

  function keep(record: SessionClaimConflict): void {
    recent.unshift(record);
    if (recent.length > KEEP) recent.length = KEEP;
    lastBySwitch.set(record.claimedBy, record);
  }

  /** "tell", "tell-last" (and say the rest are not told), or "quiet". */
  function budget(switchId: string, now: number): "tell" | "tell-last" | "quiet" {
    const entry = told.get(switchId);
    const current = entry && now - entry.since < WINDOW_MS ? entry : { since: now, count: 0 };
    current.count += 1;
    told.set(switchId, current);
    if (current.count < CONFLICTS_TOLD_PER_WINDOW) return "tell";
    return current.count === CONFLICTS_TOLD_PER_WINDOW ? "tell-last" : "quiet";
  }

  async function audit(conflict: SessionClaimConflict, last: boolean): Promise<void> {
    await inTransaction(deps.prisma, async (tx) => {
      const sw = await tx.switch.findUnique({ where: { id: conflict.claimedBy }, select: { name: true } });
      await recordAudit(tx, agentActor({ switchId: conflict.claimedBy, switchName: sw?.name ?? "removed" }), {
        action: `session.claim-${conflict.kind}`,
        targetType: "host",
        targetId: conflict.hostId,
        summary: {
          networkId: conflict.networkId,
          commonName: conflict.commonName,
          claimedBy: conflict.claimedBy,
          heldBy: conflict.heldBy,
          reason: conflict.reason,
          ...(last
            ? { note: `conflicts of this switch beyond ${CONFLICTS_TOLD_PER_WINDOW} in 10 minutes are only logged` }
            : {}),
        },
      });
    });
  }

  return {
    flag(networkId: string, conflict: ClaimConflict, now = new Date()): void {
      const record: SessionClaimConflict = { ...conflict, networkId, at: now.toISOString() };
      keep(record);
      deps.log.warn(
        { switchId: conflict.claimedBy, hostId: conflict.hostId },
        `session claim ${conflict.kind}: ${conflict.reason}`,
      );
      const verdict = budget(conflict.claimedBy, now.getTime());
      if (verdict === "quiet") return;
      deps.publish({ type: "session-conflict", networkId, conflict: record, at: record.at });
      deps.share?.(record);
      const write = audit(record, verdict === "tell-last").catch((error: unknown) =>
        deps.log.error({ err: error }, "recording a session claim conflict failed"),
      );
      writes.add(write);
      void write.finally(() => writes.delete(write));
    },

    /** Another instance told a conflict (its audit row is written there). */
    mirror(record: SessionClaimConflict): void {
      keep(record);
      deps.publish({ type: "session-conflict", networkId: record.networkId, conflict: record, at: record.at });
    },

    /** The switch's last conflict, for its status. */
    lastOf(switchId: string): SessionClaimConflict | null {
      return lastBySwitch.get(switchId) ?? null;
    },

    /** Newest first, filtered like GET /api/sessions. */
    list(filter: { networkId?: string; switchId?: string; hostId?: string }): SessionClaimConflict[] {
      return recent.filter(
        (c) =>
          (!filter.networkId || c.networkId === filter.networkId) &&
          (!filter.switchId || c.claimedBy === filter.switchId || c.heldBy === filter.switchId) &&
          (!filter.hostId || c.hostId === filter.hostId),
      );
    },

    /** Resolves when the audit rows written so far are in (before the database closes). */
    async settled(): Promise<void> {
      await Promise.allSettled([...writes]);
    },
  };
}

export type ClaimConflicts = ReturnType<typeof claimConflicts>;
