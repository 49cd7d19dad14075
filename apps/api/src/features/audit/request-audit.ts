import type { FastifyRequest } from "fastify";
import type { AuditContext } from "./audit-log.ts";

/**
 * The audit actor of a request. Until accounts exist (issue 8) every caller is anonymous; the
 * request id and source address are real, so rows written now already trace back to requests.
 */
export function auditContextOf(request: FastifyRequest): AuditContext {
  return { actorType: "anonymous", actorName: "anonymous", requestId: String(request.id), sourceAddress: request.ip };
}
