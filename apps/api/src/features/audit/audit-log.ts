import type { Tx } from "../../db/transactions.ts";
import type { Prisma } from "../../generated/prisma/client.ts";

/** Who did it and from where; the accounts issue fills in real actors. */
export interface AuditContext {
  actorType: "user" | "token" | "agent" | "system" | "anonymous";
  actorId?: string;
  actorName: string;
  requestId?: string;
  sourceAddress?: string;
}

export const SYSTEM_ACTOR: AuditContext = { actorType: "system", actorName: "switchboard" };

/** Writes one audit row inside the caller's transaction, so it commits or rolls back with the change. */
export function recordAudit(
  tx: Tx,
  context: AuditContext,
  event: { action: string; targetType: string; targetId?: string; summary?: Prisma.InputJsonValue },
) {
  return tx.auditEvent.create({
    data: {
      actorType: context.actorType,
      actorId: context.actorId ?? null,
      actorName: context.actorName,
      requestId: context.requestId ?? null,
      sourceAddress: context.sourceAddress ?? null,
      action: event.action,
      targetType: event.targetType,
      targetId: event.targetId ?? null,
      summary: event.summary ?? {},
    },
  });
}
