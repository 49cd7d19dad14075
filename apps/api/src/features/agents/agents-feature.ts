import websocket from "@fastify/websocket";
import type { Certificate, RouteReport } from "@switchboard/shared";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { TypedApp } from "../../http/typed-app.ts";
import type { CertificateAuthority } from "../pki/certificate-authority.ts";
import { agentCredentials } from "./agent-credentials.ts";
import { agentRoutes } from "./agent-routes.ts";
import { agentStatusStore } from "./agent-status.ts";
import {
  agentChannelRoute,
  type ChannelEvents,
  type ChannelSettings,
  DEFAULT_CHANNEL,
} from "./channel/agent-channel.ts";
import { AgentHub, CLOSE_REVOKED } from "./channel/agent-hub.ts";
import { sessionKiller } from "./sessions/kill-session.ts";
import { sessionRoutes } from "./sessions/session-routes.ts";
import { SessionStore } from "./sessions/session-store.ts";
import { StateDispatcher } from "./state/state-dispatcher.ts";

export interface AgentsOptions {
  channel?: Partial<ChannelSettings>;
  /** Changes are batched this long before they go out (default 50 ms). */
  tickMs?: number;
  /** Network revisions are polled this often for changes made outside this instance's requests (default 2 s). */
  pollMs?: number;
}

/** Largest frame an agent may send: a route report or session snapshot of a big switch. */
const MAX_FRAME_BYTES = 32 * 1024 * 1024;
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The composition root of the agent side of the API: enrollment, the channel, status, desired
 * state, sessions and routes. Returns what other features hook into.
 */
export async function registerAgents(
  app: TypedApp,
  prisma: PrismaClient,
  authority: CertificateAuthority,
  options: AgentsOptions = {},
) {
  await app.register(websocket, { options: { maxPayload: MAX_FRAME_BYTES } });
  const settings: ChannelSettings = { ...DEFAULT_CHANNEL, ...options.channel };
  const tickMs = options.tickMs ?? 50;
  const hub = new AgentHub();
  const credentials = agentCredentials(prisma, (switchId) =>
    hub.disconnect(switchId, CLOSE_REVOKED, "agent credential revoked"),
  );
  const status = agentStatusStore(prisma, hub, settings.heartbeatMs * 3);
  let dispatcher: StateDispatcher | undefined;
  const sessions = new SessionStore({
    prisma,
    log: app.log,
    hostIdOf: (networkId, commonName) => dispatcher?.hostIdOf(networkId, commonName),
    onRoutesChanged: (networkId, commonNames) => dispatcher?.routesChanged(networkId, commonNames),
    flushMs: tickMs,
  });
  const routes = new StateDispatcher({
    prisma,
    authority,
    status,
    log: app.log,
    sessions,
    tickMs,
    pollMs: options.pollMs ?? 2000,
  });
  dispatcher = routes;
  const routeReports = new Map<string, { report: RouteReport; at: Date }>();
  const killSession = sessionKiller(prisma, hub, sessions);

  const events: ChannelEvents = {
    async connected(link, hello) {
      await status.connected(link.identity.switchId, link.agentVersion);
      await routes.connected(link, hello);
    },
    async message(link, message) {
      switch (message.type) {
        case "ack":
          return routes.ack(link, message);
        case "sessions":
          return sessions.events(link.identity, message);
        case "session-snapshot":
          return sessions.snapshot(link.identity, message);
        case "route-report":
          routeReports.set(link.identity.switchId, { report: message, at: new Date() });
          return;
        case "command-result":
          hub.commandResult(link.identity.switchId, message);
          return;
      }
    },
    async disconnected(link, current) {
      routes.disconnected(link);
      if (current) await status.disconnected(link.identity.switchId);
    },
    seen: (link) => status.seen(link.identity.switchId),
  };

  // Every successful change through the API may alter what switches should have: look within a tick.
  app.addHook("onResponse", async (request, reply) => {
    if (!SAFE_METHODS.has(request.method) && reply.statusCode < 400 && request.url.startsWith("/api/")) {
      routes.poke();
    }
  });
  agentRoutes(app, credentials, status);
  const channel = agentChannelRoute(app, { credentials, hub, events, settings });
  // preClose, not onClose: onClose hooks run last-registered first, so the database would be gone.
  app.addHook("preClose", async () => {
    await channel.shutdown();
    routes.close();
    await routes.settled();
    await sessions.close();
    await status.settled();
  });
  sessionRoutes(app, { prisma, sessions, dispatcher: routes, killSession, routeReports });

  return {
    hub,
    /**
     * Wraps the PKI service so revoking a host's certificate also drops its live session: OpenVPN
     * keeps a connected client's data flowing on its old key long after the CRL changes.
     */
    killOnRevoke<T extends { revoke(...args: never[]): Promise<Certificate> }>(pki: T): T {
      const revoke = pki.revoke.bind(pki);
      return {
        ...pki,
        revoke: async (...args: Parameters<T["revoke"]>) => {
          const certificate = await revoke(...args);
          if (certificate.hostId && certificate.kind === "client") {
            killSession(certificate.hostId, false).catch((error: unknown) =>
              app.log.info({ err: error, hostId: certificate.hostId }, "no session to kill after revocation"),
            );
          }
          return certificate;
        },
      };
    },
  };
}

export type AgentsFeature = Awaited<ReturnType<typeof registerAgents>>;
