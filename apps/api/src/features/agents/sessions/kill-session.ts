import type { KillSessionResult } from "@switchboard/shared";
import { inTransaction } from "../../../db/transactions.ts";
import type { PrismaClient } from "../../../generated/prisma/client.ts";
import { conflict, notFound } from "../../../http/errors.ts";
import { type AuditContext, recordAudit } from "../../audit/audit-log.ts";
import type { CommandRouter } from "../channel/command-router.ts";
import type { SessionStore } from "./session-store.ts";

/** How long the API waits for the agent's answer before it answers the caller without one. */
const ANSWER_WITHIN_MS = 5000;

/**
 * Asks the switch holding a host's live session to drop it (`client-kill`: the host reconnects
 * at once, or moves to its next switch with nextRemote). Audited when a person or token asked.
 */
export function sessionKiller(
  prisma: PrismaClient,
  commands: Pick<CommandRouter, "command">,
  sessions: SessionStore,
  /** Whether any instance holds the switch's agent now. */
  online: (switchId: string) => Promise<boolean>,
) {
  return async (hostId: string, nextRemote: boolean, audit?: AuditContext): Promise<KillSessionResult> => {
    const host = await prisma.host.findUnique({ where: { id: hostId }, select: { networkId: true, commonName: true } });
    if (!host) throw notFound("host", hostId);
    await sessions.prepare(host.networkId);
    const live = sessions.live(host.networkId, host.commonName);
    if (!live) throw conflict("host", "has no live session");
    if (!(await online(live.switchId)))
      throw conflict("host", `is connected to switch ${live.switchId}, whose agent is offline`);
    if (audit) {
      await inTransaction(prisma, (tx) =>
        recordAudit(tx, audit, {
          action: "host.kill-session",
          targetType: "host",
          targetId: hostId,
          summary: { commonName: host.commonName, switchId: live.switchId, nextRemote },
        }),
      );
    }
    const command = commands.command(
      live.switchId,
      { kind: "kill-session", commonName: host.commonName, ...(nextRemote ? { nextRemote } : {}) },
      ANSWER_WITHIN_MS,
    );
    const result = await command.result;
    return {
      switchId: live.switchId,
      commandId: command.id,
      ok: result?.ok ?? null,
      message: result?.message ?? null,
    };
  };
}

export type SessionKiller = ReturnType<typeof sessionKiller>;
