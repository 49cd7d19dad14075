import { afterCommit, type Tx } from "../../db/transactions.ts";
import type { AuditEvent, Prisma, PrismaClient } from "../../generated/prisma/client.ts";

/** Who did it and from where; the accounts issue fills in real actors. */
export interface AuditContext {
  actorType: "user" | "token" | "agent" | "system" | "anonymous";
  actorId?: string;
  actorName: string;
  requestId?: string;
  sourceAddress?: string;
}

export const SYSTEM_ACTOR: AuditContext = { actorType: "system", actorName: "switchboard" };

export type AuditListener = (event: AuditEvent) => void;

/** Per database client: everything that shares a database sees every committed change. */
const listeners = new WeakMap<PrismaClient, Set<AuditListener>>();

/** Calls `listener` with every audit row once its transaction has committed; returns the unsubscribe. */
export function onAuditCommitted(prisma: PrismaClient, listener: AuditListener): () => void {
  let set = listeners.get(prisma);
  if (!set) {
    set = new Set();
    listeners.set(prisma, set);
  }
  set.add(listener);
  return () => set.delete(listener);
}

/**
 * Writes one audit row inside the caller's transaction, so it commits or rolls back with the
 * change; once committed, the row is announced to onAuditCommitted's listeners (the live feed).
 */
export async function recordAudit(
  tx: Tx,
  context: AuditContext,
  event: { action: string; targetType: string; targetId?: string; summary?: Prisma.InputJsonValue },
) {
  const row = await tx.auditEvent.create({
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
  afterCommit(tx, (prisma) => {
    for (const listener of listeners.get(prisma) ?? []) {
      try {
        listener(row);
      } catch {
        // The change is done; one listener's bug must not keep it from the others.
      }
    }
  });
  return row;
}
