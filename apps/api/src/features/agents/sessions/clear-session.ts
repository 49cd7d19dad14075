import type { ClearSessionResult, KillSessionResult, SessionRecord } from "@switchboard/shared";
import { inTransaction } from "../../../db/transactions.ts";
import type { PrismaClient } from "../../../generated/prisma/client.ts";
import { notFound } from "../../../http/errors.ts";
import { type AuditContext, recordAudit } from "../../audit/audit-log.ts";
import type { CommandRouter } from "../channel/command-router.ts";
import type { SessionStore } from "./session-store.ts";

/** How long the API waits for the switch's answer to the kill before it answers the admin without one. */
const ANSWER_WITHIN_MS = 5000;

/**
 * An admin's "clear session": ends the host's session records whatever any switch says (a stuck
 * or disbelieved claim, a switch that no longer reports), so its routes are withdrawn at once,
 * and asks the switch that held the live session to drop the client, as kill-session does.
 * Records left open by another API instance end too. Audited with what it ended.
 */
export function sessionClearer(
  prisma: PrismaClient,
  commands: Pick<CommandRouter, "command">,
  sessions: SessionStore,
  online: (switchId: string) => Promise<boolean>,
) {
  return async (hostId: string, audit: AuditContext): Promise<ClearSessionResult> => {
    const host = await prisma.host.findUnique({ where: { id: hostId }, select: { networkId: true, commonName: true } });
    if (!host) throw notFound("host", hostId);
    const now = new Date();
    const live = await sessions.clear(host.networkId, host.commonName);
    // What the store ended is written with its next batch; flush so this transaction sees it.
    await sessions.flush();
    const ended = await inTransaction(prisma, async (tx) => {
      const open = await tx.session.findMany({ where: { hostId, disconnectedAt: null }, select: { id: true } });
      await tx.session.updateMany({
        where: { id: { in: open.map((row) => row.id) } },
        data: { disconnectedAt: now, endReason: "cleared" },
      });
      const rows = await tx.session.findMany({
        where: { id: { in: [...open.map((row) => row.id), ...live.map((s) => s.id)] } },
        orderBy: { connectedAt: "desc" },
      });
      await recordAudit(tx, audit, {
        action: "host.clear-session",
        targetType: "host",
        targetId: hostId,
        summary: {
          commonName: host.commonName,
          networkId: host.networkId,
          sessions: rows.map((row) => ({ id: row.id, switchId: row.switchId })),
        },
      });
      return rows.map(
        (row): SessionRecord => ({
          id: row.id,
          hostId,
          commonName: host.commonName,
          switchId: row.switchId,
          networkId: host.networkId,
          realAddress: row.realAddress,
          connectedAt: row.connectedAt.toISOString(),
          bytesIn: Number(row.bytesIn),
          bytesOut: Number(row.bytesOut),
        }),
      );
    });
    const holder = live[0]?.switchId;
    return { ended, kill: holder && (await online(holder)) ? await kill(holder, host.commonName) : null };
  };

  async function kill(switchId: string, commonName: string): Promise<KillSessionResult> {
    const command = commands.command(switchId, { kind: "kill-session", commonName }, ANSWER_WITHIN_MS);
    const result = await command.result;
    return { switchId, commandId: command.id, ok: result?.ok ?? null, message: result?.message ?? null };
  }
}

export type SessionClearer = ReturnType<typeof sessionClearer>;
