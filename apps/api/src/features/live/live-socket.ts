import type { WebSocket } from "@fastify/websocket";
import type { LiveMessage } from "@switchboard/shared";
import type { FastifyRequest } from "fastify";
import { type Identity, type SessionSettings, stillValid } from "../../auth/identity.ts";
import type { PrismaClient, Role } from "../../generated/prisma/client.ts";
import { HttpError } from "../../http/error-handler.ts";
import type { TypedApp } from "../../http/typed-app.ts";
import type { LiveBus } from "./live-bus.ts";
import { visibleTo } from "./live-visibility.ts";

export const LIVE_PATH = "/api/live";

export interface LiveSettings {
  /** Ping period; a console that has not answered the previous ping by the next one is dropped. Default 15 s. */
  heartbeatMs: number;
  /** How often each console's session or token is checked again (signed out, idle, disabled, revoked). Default 15 s. */
  recheckMs: number;
  /** A console with this much unsent data is too slow: it is dropped, reconnects and refetches. Default 4 MiB. */
  maxBufferedBytes: number;
}

export const DEFAULT_LIVE: LiveSettings = { heartbeatMs: 15_000, recheckMs: 15_000, maxBufferedBytes: 4 * 1024 * 1024 };

/** The session or token behind the socket ended or changed role: reconnect, signing in again if asked. */
export const CLOSE_SIGNED_OUT = 4401;
const CLOSE_UNSUPPORTED = 1003;
const CLOSE_TOO_BIG = 1009;
const CLOSE_TRY_AGAIN = 1013;
/** The console has nothing to say; a short text frame (its own keep-alive, say) is ignored. */
const MAX_CONSOLE_FRAME = 1024;

interface ConsolePeer {
  readonly socket: WebSocket;
  readonly identity: Identity;
  alive: boolean;
}

/**
 * Browsers do not apply the same-origin policy to websockets, but they always send Origin on
 * the upgrade. The session cookie is SameSite=Strict, yet another origin of the same site (a
 * sibling subdomain) still gets it sent along and could read the feed: cross-site websocket
 * hijacking. So only the console's own origin may open it; clients that send no Origin (scripts
 * with a token) are not browsers.
 */
async function refuseForeignOrigin(request: FastifyRequest): Promise<void> {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  if (host === undefined || host.toLowerCase() !== request.host.toLowerCase()) {
    throw new HttpError(403, `origin ${origin.slice(0, 200)} may not open the live feed of ${request.host}`);
  }
}

/**
 * GET /api/live: the console's websocket. Authenticated like any read route (the auth plugin's
 * hook runs before the upgrade: a bad cookie or token gets a plain 401 and no socket). The
 * server only sends: welcome, then what the bus publishes, trimmed to what the role may read.
 */
export function liveSocketRoute(
  app: TypedApp,
  deps: { bus: LiveBus; prisma: PrismaClient; sessions: SessionSettings; settings: LiveSettings },
) {
  const { bus, prisma, sessions, settings } = deps;
  const consoles = new Set<ConsolePeer>();

  const heartbeat = setInterval(() => {
    for (const peer of consoles) {
      if (!peer.alive) {
        peer.socket.terminate();
        continue;
      }
      peer.alive = false;
      peer.socket.ping();
    }
  }, settings.heartbeatMs);
  heartbeat.unref();
  const recheckTimer = setInterval(() => void recheck(), settings.recheckMs);
  recheckTimer.unref();

  const unsubscribe = bus.subscribe((message) => {
    // Serialised once per role, not once per console.
    const frames = new Map<Role, string | null>();
    for (const peer of consoles) {
      const role = peer.identity.role;
      let frame = frames.get(role);
      if (frame === undefined) {
        const visible = visibleTo(role, message);
        frame = visible ? JSON.stringify(visible) : null;
        frames.set(role, frame);
      }
      if (frame !== null) send(peer, frame);
    }
  });

  function send(peer: ConsolePeer, frame: string) {
    const { socket } = peer;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > settings.maxBufferedBytes) {
      socket.close(CLOSE_TRY_AGAIN, "too far behind: reconnect and refetch");
      return;
    }
    socket.send(frame);
  }

  /** Closes the sockets whose session or token ended; run on a timer and after account changes. */
  async function recheck(): Promise<void> {
    await Promise.all(
      [...consoles].map(async (peer) => {
        // A database hiccup keeps the socket until the next check rather than dropping every console.
        const valid = await stillValid(prisma, peer.identity, sessions).catch(() => true);
        if (!valid) peer.socket.close(CLOSE_SIGNED_OUT, "session ended or changed: reconnect");
      }),
    );
  }

  async function shutdown(): Promise<void> {
    clearInterval(heartbeat);
    clearInterval(recheckTimer);
    unsubscribe();
    for (const peer of consoles) peer.socket.terminate();
    consoles.clear();
  }

  app.get(
    LIVE_PATH,
    {
      websocket: true,
      config: { access: "read" },
      schema: { tags: ["live"], summary: "The console's live feed (websocket; LiveMessage frames)" },
      preValidation: refuseForeignOrigin,
    },
    (socket, request) => open(socket, request.identity as Identity),
  );

  return { recheck, shutdown };

  function open(socket: WebSocket, identity: Identity) {
    if (!limitFrames(socket, MAX_CONSOLE_FRAME)) app.log.warn("live feed: cannot limit frame size at parse time");
    const peer: ConsolePeer = { socket, identity, alive: true };
    const welcome: LiveMessage = { type: "welcome", serverTime: new Date().toISOString() };
    socket.send(JSON.stringify(welcome));
    consoles.add(peer);
    socket.on("pong", () => {
      peer.alive = true;
    });
    socket.on("message", (data, isBinary) => {
      peer.alive = true;
      if (isBinary) socket.close(CLOSE_UNSUPPORTED, "the live feed takes no messages");
      else if (byteLength(data) > MAX_CONSOLE_FRAME) socket.close(CLOSE_TOO_BIG, "the live feed takes no messages");
    });
    socket.on("close", () => consoles.delete(peer));
    socket.on("error", (error) => app.log.debug({ err: error }, "live feed socket error"));
  }
}

/**
 * ws has one maxPayload per server, and the agents' channel needs 32 MiB; a console gets its own
 * small limit on its socket's frame parser, so a frame that announces more is refused (1009) as
 * soon as its header arrives, before its body is buffered. The `message` check stays as a second
 * line should a ws upgrade rename the field (the limit then holds after receipt only).
 */
function limitFrames(socket: WebSocket, maxBytes: number): boolean {
  const receiver = (socket as unknown as { _receiver?: { _maxPayload?: unknown } })._receiver;
  if (typeof receiver?._maxPayload !== "number") return false;
  receiver._maxPayload = maxBytes;
  return true;
}

function byteLength(data: Buffer | ArrayBuffer | Buffer[]): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0);
  return data.byteLength;
}
