import { Type } from "@sinclair/typebox";
import {
  ClaimConflictQuerySchema,
  ClearSessionResultSchema,
  ErrorResponseSchema,
  IdParamsSchema,
  KillSessionResultSchema,
  KillSessionSchema,
  type RouteReport,
  SessionClaimConflictSchema,
  type SessionListQuery,
  SessionListQuerySchema,
  type SessionRecord,
  SessionRecordSchema,
  type SwitchRoutes,
  SwitchRoutesSchema,
} from "@switchboard/shared";
import type { PrismaClient } from "../../../generated/prisma/client.ts";
import { notFound } from "../../../http/errors.ts";
import type { TypedApp } from "../../../http/typed-app.ts";
import { auditContextOf } from "../../audit/request-audit.ts";
import type { StateDispatcher } from "../state/state-dispatcher.ts";
import type { ClaimConflicts } from "./claim-conflicts.ts";
import type { SessionClearer } from "./clear-session.ts";
import type { SessionKiller } from "./kill-session.ts";
import type { SessionStore } from "./session-store.ts";

const errors = { 400: ErrorResponseSchema, 404: ErrorResponseSchema, 409: ErrorResponseSchema };

export interface SessionRouteDeps {
  prisma: PrismaClient;
  sessions: SessionStore;
  dispatcher: StateDispatcher;
  killSession: SessionKiller;
  clearSession: SessionClearer;
  conflicts: ClaimConflicts;
  /** The last route report of the switch's agent, from whichever instance holds it. */
  routeReport(switchId: string): Promise<{ report: RouteReport; at: Date } | undefined>;
}

/** Live sessions, killing or clearing one, claim conflicts, and each switch's routes (desired vs applied). */
export function sessionRoutes(app: TypedApp, deps: SessionRouteDeps) {
  const { prisma, sessions, dispatcher, killSession, clearSession, conflicts, routeReport } = deps;

  async function list(query: SessionListQuery): Promise<SessionRecord[]> {
    // Read-your-writes: what the agents reported before this request is in the table.
    await sessions.flush();
    const rows = await prisma.session.findMany({
      where: {
        disconnectedAt: null,
        ...(query.switchId ? { switchId: query.switchId } : {}),
        ...(query.hostId ? { hostId: query.hostId } : {}),
        ...(query.networkId ? { host: { networkId: query.networkId } } : {}),
      },
      include: { host: { select: { commonName: true, networkId: true } } },
      orderBy: { connectedAt: "desc" },
      take: 10_000,
    });
    return rows.map((row) => ({
      id: row.id,
      hostId: row.hostId,
      commonName: row.host.commonName,
      switchId: row.switchId,
      networkId: row.host.networkId,
      realAddress: row.realAddress,
      connectedAt: row.connectedAt.toISOString(),
      bytesIn: Number(row.bytesIn),
      bytesOut: Number(row.bytesOut),
    }));
  }

  async function routesOf(switchId: string): Promise<SwitchRoutes> {
    const sw = await prisma.switch.findUnique({ where: { id: switchId }, select: { networkId: true } });
    if (!sw) throw notFound("switch", switchId);
    const reported = await routeReport(switchId);
    return {
      switchId,
      desired: [...(await dispatcher.desiredRoutes(sw.networkId, switchId))],
      applied: reported ? reported.report.applied : null,
      failed: reported ? reported.report.failed : [],
      reportedAt: reported ? reported.at.toISOString() : null,
    };
  }

  app.get(
    "/api/sessions",
    {
      config: { access: "read" },
      schema: {
        tags: ["sessions"],
        summary: "Live sessions (host, switch, real address, since, bytes), newest first",
        querystring: SessionListQuerySchema,
        response: { 200: Type.Array(SessionRecordSchema), 400: ErrorResponseSchema },
      },
    },
    (request) => list(request.query),
  );

  app.post(
    "/api/hosts/:id/kill-session",
    {
      config: { access: "operate" },
      schema: {
        tags: ["sessions"],
        summary: "Drop the host's live session so it reconnects now (or moves to its next switch)",
        params: IdParamsSchema,
        body: Type.Optional(KillSessionSchema),
        response: { 200: KillSessionResultSchema, ...errors },
      },
    },
    (request) => killSession(request.params.id, request.body?.nextRemote === true, auditContextOf(request)),
  );

  app.post(
    "/api/hosts/:id/clear-session",
    {
      config: { access: "admin" },
      schema: {
        tags: ["sessions"],
        summary:
          "End the host's session records whatever its switches say (routes withdrawn at once); the switch holding it is asked to drop the client",
        params: IdParamsSchema,
        response: { 200: ClearSessionResultSchema, ...errors },
      },
    },
    (request) => clearSession(request.params.id, auditContextOf(request)),
  );

  app.get(
    "/api/sessions/conflicts",
    {
      config: { access: "read" },
      schema: {
        tags: ["sessions"],
        summary:
          "Session claims the API did not simply believe (withdrawn, or a host two switches list), newest first, as this instance saw them",
        querystring: ClaimConflictQuerySchema,
        response: { 200: Type.Array(SessionClaimConflictSchema), 400: ErrorResponseSchema },
      },
    },
    (request) => conflicts.list(request.query),
  );

  app.get(
    "/api/switches/:id/routes",
    {
      config: { access: "read" },
      schema: {
        tags: ["sessions"],
        summary: "The switch's routes: what the API wants, what the agent last reported applying",
        params: IdParamsSchema,
        response: { 200: SwitchRoutesSchema, ...errors },
      },
    },
    (request) => routesOf(request.params.id),
  );
}
