import type { WebSocket } from "@fastify/websocket";
import {
  type AgentToApiMessage,
  type ApiToAgentMessage,
  CLOSE_GOING_ELSEWHERE,
  type Hello,
  isCompatibleProtocol,
  PROTOCOL_VERSION,
  type ProtocolError,
} from "@switchboard/shared";
import type { FastifyBaseLogger } from "fastify";
import { HttpError } from "../../../http/error-handler.ts";
import type { TypedApp } from "../../../http/typed-app.ts";
import type { AgentCredentials, AgentIdentity } from "../agent-credentials.ts";
import { type AgentHub, type AgentLink, CLOSE_REVOKED } from "./agent-hub.ts";
import { checkAgentMessage } from "./check-agent-message.ts";

export const CHANNEL_PATH = "/api/agent/channel";

export interface ChannelSettings {
  /** Ping period; a peer that has not answered the previous ping by the next one is dropped. Default 15 s. */
  heartbeatMs: number;
  /** How long a new connection may take to say hello. Default 10 s. */
  helloTimeoutMs: number;
}

export const DEFAULT_CHANNEL: ChannelSettings = { heartbeatMs: 15_000, helloTimeoutMs: 10_000 };

/** What the rest of the feature does with a channel: the channel itself only speaks the protocol. */
export interface ChannelEvents {
  connected(link: AgentLink, hello: Hello): Promise<void>;
  message(link: AgentLink, message: Exclude<AgentToApiMessage, Hello | ProtocolError>): Promise<void>;
  disconnected(link: AgentLink, current: boolean): Promise<void>;
  /** A sign of life (pong or frame), for last-seen bookkeeping. */
  seen(link: AgentLink): void;
  /** The channel ended because its credential was revoked (seen at a heartbeat: perhaps by another instance). */
  revoked?(link: AgentLink): Promise<void>;
}

const CLOSE_PROTOCOL = 4400;
const CLOSE_VERSION = 4426;
/** WebSocket's "try again later": the API could not serve the agent now (its database failed). */
export const CLOSE_TRY_AGAIN = 1013;

declare module "fastify" {
  interface FastifyRequest {
    agentIdentity?: AgentIdentity;
  }
}

/**
 * The agents' websocket. Authentication happens before the upgrade (a bad credential gets a
 * plain 401 and no socket); then the agent must say hello with a protocol version this API
 * speaks and its own switch id. Every frame is checked against the shared schemas; a malformed
 * one is logged and answered with a protocol error, and never reaches the handlers.
 */
export function agentChannelRoute(
  app: TypedApp,
  deps: { credentials: AgentCredentials; hub: AgentHub; events: ChannelEvents; settings: ChannelSettings },
) {
  const { credentials, hub, events, settings } = deps;
  const sockets = new Set<WebSocket>();
  // Heartbeats: one timer for every socket, so many agents cost one interval.
  const alive = new WeakMap<WebSocket, boolean>();
  const heartbeat = setInterval(() => {
    for (const socket of sockets) {
      if (alive.get(socket) === false) {
        socket.terminate();
        continue;
      }
      alive.set(socket, false);
      socket.ping();
    }
  }, settings.heartbeatMs);
  heartbeat.unref();
  // Work still running for closed channels; the app waits for it before the database goes away.
  const inflight = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    inflight.add(work);
    void work.finally(() => inflight.delete(work));
    return work;
  };
  /** Drops every channel and waits for the work they started (the feature calls it before the database closes). */
  async function shutdown() {
    clearInterval(heartbeat);
    // The close code tells agents to reconnect at once, to another instance when they know one;
    // one that does not answer the close within a second is cut.
    for (const socket of sockets) socket.close(CLOSE_GOING_ELSEWHERE, "this API instance is shutting down");
    const deadline = Date.now() + 1000;
    while (sockets.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    for (const socket of sockets) socket.terminate();
    await Promise.allSettled([...inflight]);
  }

  app.get(
    CHANNEL_PATH,
    {
      websocket: true,
      // Public at the HTTP layer: the agent credential is checked below, before the upgrade.
      config: { access: "public" },
      schema: { tags: ["agents"], summary: "The agents' control channel (websocket)" },
      preValidation: async (request) => {
        const match = /^Bearer (\S{1,200})$/.exec(request.headers.authorization ?? "");
        const identity = match?.[1] ? await credentials.authenticate(match[1]) : null;
        if (!identity) throw new HttpError(401, "send a valid agent credential as `Authorization: Bearer sba_...`");
        request.agentIdentity = identity;
      },
    },
    (socket, request) => {
      const identity = request.agentIdentity as AgentIdentity;
      const log = request.log.child({ switchId: identity.switchId });
      openChannel(socket, identity, log);
    },
  );

  return { shutdown };

  function openChannel(socket: WebSocket, identity: AgentIdentity, log: FastifyBaseLogger) {
    sockets.add(socket);
    alive.set(socket, true);
    let link: AgentLink | undefined;
    let queue: Promise<void> = Promise.resolve();
    // Once the API closes a channel (revoked, replaced, refused), nothing more it says is believed,
    // not even frames already waiting in the queue: a revoked agent cannot slip claims in.
    let closedByApi = false;
    const close = (code: number, reason: string) => {
      closedByApi = true;
      socket.close(code, reason);
    };
    const send = (message: ApiToAgentMessage) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
    };
    const refuse = (code: ProtocolError["code"], message: string, closeWith?: number) => {
      log.warn({ code }, `agent channel: ${message}`);
      send({ type: "error", code, message: message.slice(0, 2048) });
      if (closeWith !== undefined) close(closeWith, code);
    };
    const helloTimer = setTimeout(
      () => refuse("malformed", "no hello within the time allowed", CLOSE_PROTOCOL),
      settings.helloTimeoutMs,
    );

    socket.on("pong", () => {
      alive.set(socket, true);
      if (link) events.seen(link);
      // A credential revoked elsewhere (another instance) ends the channel at the next heartbeat.
      void credentials.stillValid(identity.credentialId).then(
        (valid) => {
          if (valid || closedByApi) return;
          refuse("unauthorized", "the agent credential was revoked", CLOSE_REVOKED);
          if (link) void events.revoked?.(link).catch((error) => log.error({ err: error }));
        },
        () => undefined,
      );
    });
    socket.on("message", (data, isBinary) => {
      alive.set(socket, true);
      const checked = isBinary
        ? ({ ok: false, error: "binary frames are not part of the protocol" } as const)
        : checkAgentMessage(frameText(data));
      // Frames are handled one at a time, in order: nothing overtakes the hello.
      if (closedByApi) return;
      queue = track(
        queue.then(async () => {
          if (closedByApi) return;
          if (!checked.ok) {
            refuse("malformed", `refused message: ${checked.error}`, link ? undefined : CLOSE_PROTOCOL);
            return;
          }
          const message = checked.message;
          try {
            if (message.type === "hello") await hello(message);
            else if (message.type === "error") log.warn({ code: message.code }, `agent reports: ${message.message}`);
            else if (!link) refuse("malformed", `${message.type} before hello`, CLOSE_PROTOCOL);
            else {
              events.seen(link);
              await events.message(link, message);
            }
          } catch (error) {
            log.error({ err: error }, "agent channel: handling a message failed");
            refuse("internal", "the API could not handle that message; see its log");
          }
        }),
      );
    });
    socket.on("close", () => {
      clearTimeout(helloTimer);
      sockets.delete(socket);
      const closing = link;
      if (!closing) return;
      const current = hub.detach(closing);
      queue = track(
        queue.then(() => events.disconnected(closing, current)).catch((error) => log.error({ err: error })),
      );
    });
    socket.on("error", (error) => log.warn({ err: error }, "agent channel socket error"));

    async function hello(message: Hello) {
      if (link) return refuse("malformed", "hello sent twice");
      if (!isCompatibleProtocol(message.protocolVersion)) {
        return refuse(
          "unsupported-version",
          `agent speaks protocol ${message.protocolVersion}, this API speaks ${PROTOCOL_VERSION}`,
          CLOSE_VERSION,
        );
      }
      if (message.switchId !== identity.switchId) {
        return refuse("unauthorized", "hello names another switch than the credential's", CLOSE_REVOKED);
      }
      clearTimeout(helloTimer);
      link = {
        identity,
        agentVersion: message.agentVersion,
        send,
        close,
      };
      hub.attach(link);
      send({ type: "welcome", protocolVersion: PROTOCOL_VERSION, switchId: identity.switchId });
      log.info({ agentVersion: message.agentVersion, revision: message.revision }, "agent connected");
      try {
        await events.connected(link, message);
      } catch (error) {
        // An open socket that is never served would look online and stay deaf: close it, and the
        // agent's reconnect tries the whole hello again.
        log.error({ err: error }, "agent channel: could not serve the agent's hello; closing so it reconnects");
        close(CLOSE_TRY_AGAIN, "the API could not serve this agent now; reconnect");
      }
    }
  }
}

function frameText(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data as ArrayBuffer).toString("utf8");
}
