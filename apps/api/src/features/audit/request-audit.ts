import type { FastifyRequest } from "fastify";
import type { AuditContext } from "./audit-log.ts";

/** The audit actor of a request: the signed-in user or token, with the request id and source address. */
export function auditContextOf(request: FastifyRequest): AuditContext {
  const identity = request.identity;
  const where = { requestId: String(request.id), sourceAddress: request.ip };
  if (!identity) return { actorType: "anonymous", actorName: "anonymous", ...where };
  return { actorType: identity.kind, actorId: identity.id, actorName: identity.name, ...where };
}
