import type { Certificate, RouteReport, SessionClaimConflict } from "@switchboard/shared";
import { ClusterRequests, NOT_MINE } from "../../cluster/cluster-requests.ts";
import type { EventLog } from "../../cluster/event-log.ts";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { TypedApp } from "../../http/typed-app.ts";
import type { LiveBus } from "../live/live-bus.ts";
import { sessionMessages } from "../live/session-messages.ts";
import type { CertificateAuthority } from "../pki/certificate-authority.ts";
import { agentCredentials } from "./agent-credentials.ts";
import { agentRoutes } from "./agent-routes.ts";
import { AGENT_STATUS_EVENT, agentStatusStore } from "./agent-status.ts";
import {
  agentChannelRoute,
  type ChannelEvents,
  type ChannelSettings,
  DEFAULT_CHANNEL,
} from "./channel/agent-channel.ts";
import { AgentHub, type AgentLink, CLOSE_REVOKED } from "./channel/agent-hub.ts";
import { CommandRouter } from "./channel/command-router.ts";
import { linkRoutes } from "./links/link-routes.ts";
import { LINK_ENDS_EVENT, type LinkEndsPayload, LinkStates } from "./links/link-states.ts";
import { claimConflicts } from "./sessions/claim-conflicts.ts";
import { sessionClearer } from "./sessions/clear-session.ts";
import { sessionKiller } from "./sessions/kill-session.ts";
import { sessionRoutes } from "./sessions/session-routes.ts";
import { type Refusals, SessionStore } from "./sessions/session-store.ts";
import { SESSIONS_EVENT, type WireBatch } from "./sessions/session-wire.ts";
import { ChangeFeed } from "./state/network-changes.ts";
import { StateDispatcher } from "./state/state-dispatcher.ts";

export interface AgentsOptions {
  channel?: Partial<ChannelSettings>;
  /** Changes are batched this long before they go out (default 50 ms). */
  tickMs?: number;
  /** Network revisions are polled this often for changes made outside this instance's requests (default 2 s). */
  pollMs?: number;
  /** How long a switch's takeover of a host may wait for its status 3 to back it before it is withdrawn (default 10 s). */
  claimWithinMs?: number;
}

/** Largest frame an agent may send: a route report or session snapshot of a big switch (set in app.ts). */
export const MAX_AGENT_FRAME_BYTES = 32 * 1024 * 1024;
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const ROUTE_REPORT_REQUEST = "route-report";
const CLAIM_CONFLICT_EVENT = "claim-conflict";
/** How long GET /api/switches/:id/routes waits for the instance holding the agent. */
const ROUTE_REPORT_WAIT_MS = 3000;
/** How long a revoked host's kick waits for the switches to acknowledge the new CRL. */
const CRL_WAIT_MS = 5000;

/**
 * The composition root of the agent side of the API: enrollment, the channel, status, desired
 * state, sessions, routes and backbone links. What agents report also goes to the console's
 * live feed (`live`). Returns what other features hook into.
 */
export async function registerAgents(
  app: TypedApp,
  prisma: PrismaClient,
  authority: CertificateAuthority,
  live: LiveBus,
  options: AgentsOptions = {},
  /** Other API instances on the same PostgreSQL (absent on PGlite, which one process owns). */
  cluster?: EventLog,
) {
  const settings: ChannelSettings = { ...DEFAULT_CHANNEL, ...options.channel };
  const tickMs = options.tickMs ?? 50;
  const hub = new AgentHub();
  // Commands reach the agent on whichever instance holds it (the cluster log carries them).
  const requests = cluster ? new ClusterRequests(cluster, app.log) : undefined;
  const commands = new CommandRouter(hub, requests);
  const credentials = agentCredentials(prisma, (switchId) => {
    const networkId = hub.get(switchId)?.identity.networkId;
    hub.disconnect(switchId, CLOSE_REVOKED, "agent credential revoked");
    void distrust(switchId, "revoked", networkId);
  });
  /**
   * A switch no longer believed (revoked, disabled): its sessions end and its claims go back now,
   * and the other switches of its network are asked what they have, so a host it had taken over
   * is placed where it really is rather than nowhere.
   */
  async function distrust(switchId: string, reason: "revoked" | "disabled", networkId?: string) {
    try {
      await sessions.endSwitch(switchId, reason, networkId);
      const network =
        networkId ??
        (await prisma.switch.findUnique({ where: { id: switchId }, select: { networkId: true } }))?.networkId;
      // Every switch of the network, wherever its agent is connected (the router finds the instance).
      const peers = network
        ? await prisma.switch.findMany({ where: { networkId: network, NOT: { id: switchId } }, select: { id: true } })
        : [];
      for (const peer of peers) void commands.command(peer.id, { kind: "session-snapshot" }).result;
    } catch (error) {
      app.log.error({ err: error, switchId }, `ending the sessions of a ${reason} switch failed`);
    }
  }
  const conflicts = claimConflicts({
    prisma,
    publish: (message) => live.publish(message),
    log: app.log,
    ...(cluster
      ? {
          share: (record) =>
            void cluster
              .append([{ networkId: record.networkId, kind: CLAIM_CONFLICT_EVENT, payload: record }])
              .catch((error: unknown) => app.log.warn({ err: error }, "a claim conflict could not be shared")),
        }
      : {}),
  });
  const status = agentStatusStore(
    prisma,
    hub,
    settings.heartbeatMs * 3,
    {
      get listening() {
        return live.listening;
      },
      changed: (networkId, agent) =>
        live.publish({ type: "agent", networkId, status: agent, at: new Date().toISOString() }),
    },
    conflicts,
    cluster,
  );
  const links = new LinkStates(
    prisma,
    (networkId, end) =>
      live.publish({
        type: "link",
        networkId,
        switchId: end.switchId,
        peerSwitchId: end.peerSwitchId,
        up: end.up,
        // The API's clock, like reportedAt in GET /api/networks/:id/links: the console orders by it.
        at: end.reportedAt,
      }),
    cluster
      ? (networkId, payload) =>
          void cluster
            .append([{ networkId, kind: LINK_ENDS_EVENT, payload }])
            .catch((error: unknown) => app.log.warn({ err: error }, "link states could not be shared"))
      : undefined,
  );
  let dispatcher: StateDispatcher | undefined;
  const sessions = new SessionStore({
    prisma,
    log: app.log,
    hostIdOf: (networkId, commonName) => dispatcher?.hostIdOf(networkId, commonName),
    onRoutesChanged: (networkId, commonNames) => dispatcher?.routesChanged(networkId, commonNames),
    onChanges(networkId, changes) {
      // A session storm with no console open costs nothing here.
      if (!live.listening) return;
      for (const message of sessionMessages(networkId, changes, new Date())) live.publish(message);
    },
    flushMs: tickMs,
    // A disabled switch's reports are not believed until it is enabled again.
    acceptsClaimsFrom: (networkId, switchId) => dispatcher?.switchEnabled(networkId, switchId) !== false,
    requestSnapshot: (switchId, timeoutMs) =>
      commands.command(switchId, { kind: "session-snapshot" }, timeoutMs).result,
    onConflict: (networkId, conflict) => conflicts.flag(networkId, conflict),
    ...(options.claimWithinMs === undefined ? {} : { corroborateWithinMs: options.claimWithinMs }),
    ...(cluster ? { share: cluster } : {}),
  });
  cluster?.subscribe((events) => {
    for (const event of events) {
      if (event.kind === SESSIONS_EVENT && event.networkId)
        sessions.mirror(event.networkId, event.payload as WireBatch);
      if (event.kind === AGENT_STATUS_EVENT) status.heardFromCluster((event.payload as { switchId: string }).switchId);
      if (event.kind === CLAIM_CONFLICT_EVENT) conflicts.mirror(event.payload as SessionClaimConflict);
      if (event.kind === LINK_ENDS_EVENT && event.networkId)
        links.mirror(event.networkId, event.payload as LinkEndsPayload, event.instance);
    }
  });
  const routes = new StateDispatcher({
    prisma,
    authority,
    status,
    log: app.log,
    sessions,
    tickMs,
    pollMs: options.pollMs ?? 2000,
    onSwitchEnabled(networkId, switchId, enabled) {
      if (enabled) {
        // What the switch has now is news again: ask for it rather than wait for its next change.
        void commands.command(switchId, { kind: "session-snapshot" }).result;
        return;
      }
      void distrust(switchId, "disabled", networkId);
    },
  });
  dispatcher = routes;
  // What services commit reaches the dispatcher as typed changes; the poke below stays the backstop.
  const changes = new ChangeFeed();
  changes.listen((change) => routes.changed(change));
  const routeReports = new Map<string, { report: RouteReport; at: Date }>();
  requests?.handle(ROUTE_REPORT_REQUEST, (payload) => {
    const { switchId } = payload as { switchId: string };
    if (!hub.get(switchId)) return NOT_MINE;
    const held = routeReports.get(switchId);
    return held ? { report: held.report, at: held.at.toISOString() } : null;
  });
  /** This instance's copy when it holds the agent; else the holder's, asked over the cluster log. */
  async function routeReportOf(switchId: string): Promise<{ report: RouteReport; at: Date } | undefined> {
    const held = routeReports.get(switchId);
    if (hub.get(switchId) || !requests || !(await status.online(switchId))) return held;
    const answer = (await requests.ask(ROUTE_REPORT_REQUEST, { switchId }, ROUTE_REPORT_WAIT_MS).answer) as
      | { report: RouteReport; at: string }
      | null
      | undefined;
    // No answer in time: this instance's older copy, if any; the holder has none yet: none.
    if (answer === undefined) return held;
    return answer ? { report: answer.report, at: new Date(answer.at) } : undefined;
  }
  const killSession = sessionKiller(prisma, commands, sessions, (switchId) => status.online(switchId));
  const clearSession = sessionClearer(prisma, commands, sessions, (switchId) => status.online(switchId));
  /** What the session store refused of a message goes back to the agent, like a malformed frame. */
  const refuse = (link: AgentLink, refusals: Refusals) => {
    if (refusals.length === 0) return;
    const message = `refused ${refusals.length} session report(s): ${refusals.slice(0, 5).join("; ")}`;
    app.log.warn({ switchId: link.identity.switchId }, `agent channel: ${message}`);
    link.send({ type: "error", code: "malformed", message: message.slice(0, 2048) });
  };

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
          return refuse(link, await sessions.events(link.identity, message));
        case "session-snapshot":
          return refuse(link, await sessions.snapshot(link.identity, message));
        case "route-report":
          routeReports.set(link.identity.switchId, { report: message, at: new Date() });
          return;
        case "link-state":
          return links.report(link.identity, message);
        case "command-result":
          hub.commandResult(link.identity.switchId, message);
          return;
      }
    },
    async disconnected(link, current) {
      routes.disconnected(link);
      if (!current) return;
      links.forget(link.identity.switchId);
      await status.disconnected(link.identity.switchId);
    },
    seen: (link) => status.seen(link.identity.switchId),
    revoked: (link) => distrust(link.identity.switchId, "revoked", link.identity.networkId),
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
    requests?.close();
    await cluster?.stop();
    await status.settled();
    await conflicts.settled();
  });
  sessionRoutes(app, {
    prisma,
    sessions,
    dispatcher: routes,
    killSession,
    clearSession,
    conflicts,
    routeReport: (switchId) => routeReportOf(switchId),
  });
  linkRoutes(app, { prisma, links });

  return {
    hub,
    /** Where services tell what their committed writes changed. */
    changes,
    /** Writes the batched session reports now (readers that filter by session: the hosts list). */
    flushSessions: () => sessions.flush(),
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
          const hostId = certificate.hostId;
          if (hostId && certificate.kind === "client") {
            // Kick the host only once every switch holds the new CRL: kicked earlier, it
            // reconnects at once on the old list and keeps its session (seen in the lab).
            const kick = async () => {
              const network = await prisma.network.findUnique({
                where: { id: certificate.networkId },
                select: { revision: true },
              });
              if (network) {
                const started = Date.now();
                await routes.appliedEverywhere(certificate.networkId, network.revision, CRL_WAIT_MS);
                // Switches whose agents other instances hold ack there; their acks are in the table.
                const left = Math.max(0, CRL_WAIT_MS - (Date.now() - started));
                if (cluster) await status.appliedByOthers(certificate.networkId, network.revision, left);
              }
              await killSession(hostId, false);
            };
            kick().catch((error: unknown) =>
              app.log.info({ err: error, hostId }, "no session to kill after revocation"),
            );
          }
          return certificate;
        },
      };
    },
  };
}

export type AgentsFeature = Awaited<ReturnType<typeof registerAgents>>;
