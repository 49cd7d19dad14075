import {
  AGENT_CREDENTIAL_PREFIX,
  DEFAULT_AGENT_DIR,
  ENROLLMENT_TOKEN_PREFIX,
  type EnrollmentToken,
  type EnrollResponse,
  networkTag,
} from "@switchboard/shared";
import { hashSecret, newSecret } from "../../auth/secrets.ts";
import { inTransaction } from "../../db/transactions.ts";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import { HttpError } from "../../http/error-handler.ts";
import { conflict, notFound } from "../../http/errors.ts";
import { type AuditContext, recordAudit } from "../audit/audit-log.ts";

/** An enrollment token lives at most this long: it travels by copy and paste. */
export const ENROLLMENT_TTL_MS = 3_600_000;
/** lastSeenAt of a credential is refreshed at most this often, not on every reconnect. */
const TOUCH_EVERY_MS = 60_000;

export interface AgentIdentity {
  credentialId: string;
  switchId: string;
  networkId: string;
  switchName: string;
}

/** The audit actor for what an agent does itself: its switch. */
export function agentActor(identity: Pick<AgentIdentity, "switchId" | "switchName">, request?: AuditContext) {
  return {
    actorType: "agent",
    actorId: identity.switchId,
    actorName: `agent:${identity.switchName}`,
    ...(request?.requestId ? { requestId: request.requestId } : {}),
    ...(request?.sourceAddress ? { sourceAddress: request.sourceAddress } : {}),
  } satisfies AuditContext;
}

/**
 * Enrollment tokens (one use, one hour) and the agent credentials they are traded for. Both are
 * stored as SHA-256 only; both are long random values, so a slow hash would add nothing.
 */
export function agentCredentials(prisma: PrismaClient, onRevoked: (switchId: string) => void = () => undefined) {
  return {
    /** A fresh one-time token for the switch's agent; earlier unused tokens stop working. */
    async createEnrollment(
      switchId: string,
      audit: AuditContext,
      now = new Date(),
    ): Promise<Pick<EnrollmentToken, "token" | "expiresAt">> {
      const token = `${ENROLLMENT_TOKEN_PREFIX}${newSecret()}`;
      const expiresAt = new Date(now.getTime() + ENROLLMENT_TTL_MS);
      await inTransaction(prisma, async (tx) => {
        const sw = await tx.switch.findUnique({ where: { id: switchId }, select: { id: true, name: true } });
        if (!sw) throw notFound("switch", switchId);
        await tx.agentEnrollment.deleteMany({ where: { switchId, usedAt: null } });
        await tx.agentEnrollment.create({ data: { switchId, tokenHash: hashSecret(token), expiresAt } });
        await recordAudit(tx, audit, {
          action: "agent.enrollment.create",
          targetType: "switch",
          targetId: switchId,
          summary: { name: sw.name, expiresAt: expiresAt.toISOString() },
        });
      });
      return { token, expiresAt: expiresAt.toISOString() };
    },

    /** Trades an enrollment token for a credential; any earlier credential of the switch is revoked. */
    async enroll(token: string, request: AuditContext, now = new Date()): Promise<EnrollResponse> {
      const refused = () => new HttpError(401, "this enrollment token is unknown, already used or expired");
      return inTransaction(prisma, async (tx) => {
        const row = await tx.agentEnrollment.findUnique({
          where: { tokenHash: hashSecret(token) },
          include: { switch: { include: { network: { select: { name: true } } } } },
        });
        if (!row || row.usedAt || row.expiresAt <= now) throw refused();
        // The conditional update is the single-use guard when two enrollments race.
        const { count } = await tx.agentEnrollment.updateMany({
          where: { id: row.id, usedAt: null },
          data: { usedAt: now },
        });
        if (count !== 1) throw refused();
        await tx.agentCredential.updateMany({
          where: { switchId: row.switchId, revokedAt: null },
          data: { revokedAt: now },
        });
        const credential = `${AGENT_CREDENTIAL_PREFIX}${newSecret()}`;
        await tx.agentCredential.create({
          data: { switchId: row.switchId, tokenHash: hashSecret(credential), prefix: credential.slice(0, 10) },
        });
        const sw = row.switch;
        await recordAudit(tx, agentActor({ switchId: sw.id, switchName: sw.name }, request), {
          action: "agent.enroll",
          targetType: "switch",
          targetId: sw.id,
          summary: { name: sw.name, credentialPrefix: credential.slice(0, 10) },
        });
        return {
          credential,
          switchId: sw.id,
          networkId: sw.networkId,
          baseDir: `${DEFAULT_AGENT_DIR}/${networkTag(sw.network)}`,
        };
      });
    },

    async revoke(switchId: string, audit: AuditContext, now = new Date()): Promise<void> {
      await inTransaction(prisma, async (tx) => {
        const sw = await tx.switch.findUnique({ where: { id: switchId }, select: { name: true } });
        if (!sw) throw notFound("switch", switchId);
        const { count } = await tx.agentCredential.updateMany({
          where: { switchId, revokedAt: null },
          data: { revokedAt: now },
        });
        if (count === 0) throw conflict("switch", "has no agent credential in force");
        await recordAudit(tx, audit, {
          action: "agent.credential.revoke",
          targetType: "switch",
          targetId: switchId,
          summary: { name: sw.name },
        });
      });
      // A revoked agent must not keep a channel it opened before.
      onRevoked(switchId);
    },

    /** The switch behind a credential, or null when it is unknown or revoked. */
    async authenticate(credential: string, now = new Date()): Promise<AgentIdentity | null> {
      if (!credential.startsWith(AGENT_CREDENTIAL_PREFIX) || credential.length > 100) return null;
      const row = await prisma.agentCredential.findUnique({
        where: { tokenHash: hashSecret(credential) },
        include: { switch: { select: { name: true, networkId: true } } },
      });
      if (!row || row.revokedAt) return null;
      if (!row.lastSeenAt || now.getTime() - row.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
        await prisma.agentCredential.update({ where: { id: row.id }, data: { lastSeenAt: now } });
      }
      return {
        credentialId: row.id,
        switchId: row.switchId,
        networkId: row.switch.networkId,
        switchName: row.switch.name,
      };
    },

    /** Whether the credential still works: checked again on every heartbeat, so a revocation on another instance also ends the channel. */
    async stillValid(credentialId: string): Promise<boolean> {
      const row = await prisma.agentCredential.findUnique({ where: { id: credentialId }, select: { revokedAt: true } });
      return row !== null && row.revokedAt === null;
    },
  };
}

export type AgentCredentials = ReturnType<typeof agentCredentials>;
