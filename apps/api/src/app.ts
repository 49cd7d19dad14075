import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import helmet from "@fastify/helmet";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import websocket from "@fastify/websocket";
import { ErrorResponseSchema } from "@switchboard/shared";
import Fastify, { type FastifyServerOptions } from "fastify";
import { registerAuth } from "./auth/auth-plugin.ts";
import { type SessionSettings, TokenCache } from "./auth/identity.ts";
import { EventLog } from "./cluster/event-log.ts";
import type { Database } from "./db/database.ts";
import { accountsRoutes } from "./features/accounts/accounts-routes.ts";
import { accountsService } from "./features/accounts/accounts-service.ts";
import { type AgentsOptions, MAX_AGENT_FRAME_BYTES, registerAgents } from "./features/agents/agents-feature.ts";
import { configRoutes } from "./features/configs/config-routes.ts";
import { configService } from "./features/configs/config-service.ts";
import { DEFAULT_HOST_ROUTE_LIMITS, type HostRouteLimits } from "./features/hosts/host-route-rules.ts";
import { hostRoutes } from "./features/hosts/host-routes.ts";
import { hostService } from "./features/hosts/host-service.ts";
import { LiveBus } from "./features/live/live-bus.ts";
import { registerLive } from "./features/live/live-feature.ts";
import type { LiveSettings } from "./features/live/live-socket.ts";
import { networkRoutes } from "./features/networks/network-routes.ts";
import { networkService } from "./features/networks/network-service.ts";
import { addMissingBackboneKeys } from "./features/pki/backbone-tls-crypt.ts";
import { certificateAuthority } from "./features/pki/certificate-authority.ts";
import { startCrlRefresher } from "./features/pki/crl-refresher.ts";
import { pkiRoutes } from "./features/pki/pki-routes.ts";
import { pkiService } from "./features/pki/pki-service.ts";
import type { PkiSettings } from "./features/pki/pki-settings.ts";
import { switchRoutes } from "./features/switches/switch-routes.ts";
import { switchService } from "./features/switches/switch-service.ts";
import { registerErrorHandling, sendNotFound } from "./http/error-handler.ts";
import type { TypedApp } from "./http/typed-app.ts";
import { validatorCompiler } from "./http/validation.ts";
import { registerWebConsole } from "./http/web-console.ts";
import { healthRoutes, VERSION } from "./routes/health.ts";
import { type TransportOptions, transportOf } from "./tls/transport.ts";

export const DEFAULT_SESSIONS: SessionSettings = { idleTimeoutMs: 30 * 60_000, absoluteTimeoutMs: 12 * 3_600_000 };

export interface AppOptions {
  db: Database;
  pki: PkiSettings;
  /** pino options or `false`; tests pass `false` to keep their output clean. */
  logger?: FastifyServerOptions["logger"];
  /** Folder with the built console (apps/web/dist); not served when absent. */
  webDir?: string;
  /** Console session lifetimes; defaults: 30 min idle, 12 h absolute. */
  sessions?: SessionSettings;
  /** The one-time token that lets the first administrator be created (main makes it when no user exists). */
  setupToken?: string;
  /** Timers such as the CRL refresher (main turns them on; tests call the jobs directly). */
  backgroundJobs?: boolean;
  /** Close the database together with the app (main does; tests that share one do not). */
  closeDatabaseOnClose?: boolean;
  /** Agent channel timings (tests shorten them). */
  agents?: AgentsOptions;
  /** The console's live feed timings (tests shorten them). */
  live?: Partial<LiveSettings>;
  /** How short a host's routes may be (HOST_SUBNET_MIN_PREFIX, HOST_SUBNET_OPERATOR_MIN_PREFIX). */
  hostRoutes?: Partial<HostRouteLimits>;
  /** Limits on HTTP connections (tests shorten them). */
  http?: Partial<HttpLimits>;
  /** TLS, proxy and public address; plain HTTP, no proxy trusted, when absent. */
  transport?: TransportOptions;
  /** This instance's name among others on the same PostgreSQL (default: host name, pid and a random part). */
  instanceName?: string;
}

export interface HttpLimits {
  /** A whole request, headers and body, must arrive within this (Fastify's default is no limit). */
  requestTimeoutMs: number;
  /** An idle connection is closed after this. Websockets are exempt once upgraded. */
  connectionTimeoutMs: number;
  /** Connections beyond this are refused at accept. */
  maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  requestTimeoutMs: 120_000,
  connectionTimeoutMs: 120_000,
  maxConnections: 10_000,
};

async function startEventLog(db: Database, name: string | undefined, app: TypedApp): Promise<EventLog> {
  const instance = name ?? `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  const log = new EventLog(db, { instance, log: app.log });
  await log.start();
  return log;
}

/** Builds the whole HTTP API around an open database. Listening is the caller's business. */
export async function buildApp(options: AppOptions): Promise<TypedApp> {
  const limits = { ...DEFAULT_HTTP_LIMITS, ...options.http };
  const transportOptions = options.transport ?? {};
  const { tls } = transportOptions;
  const app = Fastify({
    // HTTPS and HTTP servers take the same requests; Fastify's types tell them apart by generics.
    ...(tls ? { https: { cert: tls.certPem, key: tls.keyPem, minVersion: "TLSv1.2" as const } } : {}),
    // Source addresses (audit, sign-in throttling) come from X-Forwarded-For only via these proxies.
    trustProxy: transportOptions.trustProxy ?? false,
    logger: options.logger ?? false,
    // A client that trickles its request (slowloris) would otherwise hold a connection forever.
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    // Node takes the request timeout only at construction (Fastify sets it after, too late).
    http: {
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(30_000, limits.requestTimeoutMs),
    },
    genReqId: (request) => {
      const given = request.headers["x-request-id"];
      return typeof given === "string" && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
    },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as TypedApp;
  const transport = transportOf(transportOptions);
  app.decorate("transport", transport);

  app.server.maxConnections = limits.maxConnections;
  app.setValidatorCompiler(validatorCompiler());
  const sessions = options.sessions ?? DEFAULT_SESSIONS;
  const tokenCache = new TokenCache();
  // Before auth: the plugin's onRequest hook marks upgrade requests, so an upgrade that auth
  // refuses (401) has its socket closed after the answer instead of left open.
  await app.register(websocket, { options: { maxPayload: MAX_AGENT_FRAME_BYTES } });
  const accessRules = await registerAuth(app, options.db.prisma, sessions, tokenCache);
  app.decorate("accessRules", accessRules);
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // Component libraries inject <style> elements at run time.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        // Only over HTTPS: served over plain HTTP from another machine, the upgraded requests
        // for the console's own scripts would go to an https:// nobody serves (a blank page).
        upgradeInsecureRequests: transport.publicHttps ? [] : null,
      },
    },
    referrerPolicy: { policy: "no-referrer" },
    // With HTTPS, browsers that have seen the API once refuse plain HTTP to it for 180 days.
    strictTransportSecurity: transport.publicHttps ? { maxAge: 180 * 24 * 3600, includeSubDomains: false } : false,
  });
  app.addHook("onSend", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  registerErrorHandling(app);
  app.addSchema(ErrorResponseSchema);

  await app.register(swagger, {
    openapi: {
      info: { title: "Switchboard API", version: VERSION, description: "Control plane for OpenVPN virtual LANs" },
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, index) => String(json.$id ?? `def-${index}`) },
  });
  await app.register(swaggerUi, { routePrefix: "/api/docs" });

  healthRoutes(app, options.db);
  const { prisma } = options.db;
  const authority = certificateAuthority(options.pki);
  await addMissingBackboneKeys(prisma, authority, app.log);
  // The console's live feed (features/live): agents publish sessions, status and links to it,
  // committed audit rows become `changed` messages.
  const live = new LiveBus();
  // Agents (features/agents): enrollment, the websocket channel, desired state, sessions, routes.
  // Several instances may share a PostgreSQL server: what one learns from its agents reaches the others.
  const cluster =
    options.db.kind === "postgres" ? await startEventLog(options.db, options.instanceName, app) : undefined;
  const agents = await registerAgents(app, prisma, authority, live, options.agents, cluster);
  registerLive(app, { prisma, bus: live, sessions, ...(options.live ? { settings: options.live } : {}) });
  networkRoutes(app, networkService(prisma, authority, agents.changes));
  switchRoutes(app, switchService(prisma, authority, agents.changes));
  hostRoutes(
    app,
    hostService(
      prisma,
      options.db.sql,
      authority,
      agents.flushSessions,
      {
        ...DEFAULT_HOST_ROUTE_LIMITS,
        ...options.hostRoutes,
      },
      agents.changes,
    ),
  );
  configRoutes(app, configService(prisma));
  let setupToken = options.setupToken;
  accountsRoutes(
    app,
    accountsService(prisma, sessions, tokenCache),
    {
      current: () => setupToken,
      consume: () => {
        setupToken = undefined;
      },
    },
    Math.round(sessions.idleTimeoutMs / 1000),
  );
  const pki = agents.killOnRevoke(pkiService(prisma, authority));
  pkiRoutes(app, pki);
  if (options.backgroundJobs) startCrlRefresher(app, pki);

  app.setNotFoundHandler(options.webDir ? await registerWebConsole(app, options.webDir, sendNotFound) : sendNotFound);
  if (options.closeDatabaseOnClose) app.addHook("onClose", () => options.db.close());
  return app;
}
