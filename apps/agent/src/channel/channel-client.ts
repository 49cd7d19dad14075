import { type AgentToApiMessage, CLOSE_GOING_ELSEWHERE, type Hello } from "@switchboard/shared";
import WebSocket from "ws";
import type { AgentLogger } from "../agent.ts";
import { MAX_MESSAGE_BYTES } from "../protocol/check-message.ts";
import { Backoff } from "./backoff.ts";
import { type CertificatePin, pinnedTlsOptions } from "./tls-pin.ts";

export const CHANNEL_PATH = "/api/agent/channel";

/** The side of the agent the channel talks to (Agent implements it). */
export interface ChannelPeer {
  hello(): Hello;
  /** Never throws: malformed frames are answered by the peer itself. */
  handleMessage(raw: string): Promise<void>;
  /** Sent right after hello on every (re)connect, so the API catches up on what it missed. */
  resume(): AgentToApiMessage[];
}

export interface ChannelClientOptions {
  /** The API's base URL, http(s)://host[:port]. */
  readonly api: string;
  /** Other instances of the same API, tried in turn after `api` when a connection drops or fails. */
  readonly otherApis?: readonly string[];
  readonly credential: string;
  readonly pin?: CertificatePin | undefined;
  readonly peer: ChannelPeer;
  readonly log?: AgentLogger;
  readonly backoff?: { readonly baseMs: number; readonly capMs: number };
  /** No ping or frame from the API for this long: the connection is dead, drop it. Default 45 s. */
  readonly silenceMs?: number;
}

/** Within this long of a working connection, a failed reconnect waits at most RECENT_CAP_MS: the API is likely restarting. */
const RECENT_MS = 60_000;
const RECENT_CAP_MS = 2_000;
/** The pause before trying the next URL of a round, or after a close that says where to go. */
const QUICK_MS = 250;
/** A connection that worked at least this long was a real one: its drop is news, not a loop. */
const STEADY_MS = 5_000;

export function channelUrl(api: string): string {
  const url = new URL(CHANNEL_PATH, api.endsWith("/") ? api : `${api}/`);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

/**
 * One websocket to the API, kept open: connect with the credential, say hello, feed every frame
 * to the agent in order, and reconnect with full-jitter backoff when it drops. Losing the API
 * changes nothing on the switch: files and routes stay as they are.
 */
export class ChannelClient {
  private socket: WebSocket | undefined;
  private stopped = true;
  private retry: NodeJS.Timeout | undefined;
  private silence: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly backoff: Backoff;
  private readonly log: AgentLogger;
  private welcomed = false;
  private readonly urls: readonly string[];
  /** The URL the next attempt goes to, and failed attempts since the last working connection. */
  private current = 0;
  private failures = 0;
  private lastWelcomedAt = Number.NEGATIVE_INFINITY;
  /** Connections opened so far, and attempts made (tests and diagnostics read them). */
  connections = 0;
  attempts = 0;

  constructor(private readonly options: ChannelClientOptions) {
    this.backoff = new Backoff(options.backoff ?? { baseMs: 500, capMs: 30_000 });
    this.urls = [options.api, ...(options.otherApis ?? [])];
    this.log = options.log ?? { info: () => undefined, warn: () => undefined };
  }

  /** The API URL the channel is connected to, or trying next. */
  get api(): string {
    return this.urls[this.current] ?? this.options.api;
  }

  get connected(): boolean {
    return this.socket?.readyState === WebSocket.OPEN && this.welcomed;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  /** Closes the channel for good; resolves once the socket is closed and pending frames are handled. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    clearTimeout(this.silence);
    const socket = this.socket;
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        socket.once("close", () => resolve());
        socket.close(1000, "agent stopping");
        setTimeout(() => {
          socket.terminate();
          resolve();
        }, 1000).unref();
      });
    }
    await this.queue;
  }

  /** Sends when connected; otherwise drops the message (resume() brings the API up to date later). */
  send(message: AgentToApiMessage): boolean {
    const socket = this.socket;
    if (socket?.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  private connect(): void {
    if (this.stopped) return;
    this.attempts += 1;
    this.welcomed = false;
    const socket = new WebSocket(channelUrl(this.api), {
      headers: { authorization: `Bearer ${this.options.credential}` },
      maxPayload: MAX_MESSAGE_BYTES,
      handshakeTimeout: 10_000,
      perMessageDeflate: false,
      ...(this.options.pin ? pinnedTlsOptions(this.options.pin) : {}),
    });
    this.socket = socket;

    socket.on("open", () => {
      this.connections += 1;
      this.heard();
      this.send(this.options.peer.hello());
      for (const message of this.options.peer.resume()) this.send(message);
    });
    socket.on("ping", () => this.heard());
    socket.on("message", (data, isBinary) => {
      this.heard();
      if (isBinary) return;
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString("utf8")
        : Buffer.isBuffer(data)
          ? data.toString("utf8")
          : Buffer.from(new Uint8Array(data)).toString("utf8");
      if (!this.welcomed && typeOf(text) === "welcome") {
        this.welcomed = true;
        // Only a welcomed connection resets the backoff: an API that accepts and then refuses must not be hammered.
        this.backoff.reset();
        this.failures = 0;
        this.lastWelcomedAt = Date.now();
        this.log.info(`connected to the API at ${this.api}`);
      }
      this.queue = this.queue.then(() => this.options.peer.handleMessage(text)).catch(() => undefined);
    });
    socket.on("error", (error) => this.log.warn(`channel: ${error.message}`));
    socket.on("close", (code, reason) => {
      clearTimeout(this.silence);
      if (this.socket === socket) this.socket = undefined;
      const wasWelcomed = this.welcomed;
      this.welcomed = false;
      if (this.stopped) return;
      const delay = this.nextDelay(code, wasWelcomed);
      // A dropped or refused connection moves on to the next instance (with one URL: the same).
      this.current = (this.current + 1) % this.urls.length;
      this.log.warn(`channel closed (${code}${reason.length ? ` ${reason.toString()}` : ""}); retrying in ${delay} ms`);
      this.retry = setTimeout(() => this.connect(), delay);
    });
  }

  /**
   * How long to wait before the next attempt. Told to go elsewhere, or dropped after working: at
   * once (another instance, or this one restarting). A failed attempt: the next URL of the round
   * at once, then backoff after a whole round failed, capped at 2 s within a minute of the last
   * working connection (an API restart costs seconds, not the 30 s cap).
   */
  private nextDelay(code: number, wasWelcomed: boolean): number {
    const quick = () => Math.floor(Math.random() * QUICK_MS);
    // A connection that is welcomed and dropped at once, again and again, must not become a tight loop.
    const lasted = Date.now() - this.lastWelcomedAt >= STEADY_MS;
    if (code === CLOSE_GOING_ELSEWHERE || (wasWelcomed && lasted)) return quick();
    this.failures += 1;
    if (this.failures % this.urls.length !== 0) return quick();
    const delay = this.backoff.next();
    return Date.now() - this.lastWelcomedAt < RECENT_MS ? Math.min(delay, RECENT_CAP_MS) : delay;
  }

  /** Any sign of life from the API restarts the silence timer. */
  private heard(): void {
    clearTimeout(this.silence);
    const socket = this.socket;
    this.silence = setTimeout(() => {
      this.log.warn("the API went silent; dropping the channel");
      socket?.terminate();
    }, this.options.silenceMs ?? 45_000);
  }
}

/** The type of the first frame of a connection, without trusting it further (the agent checks it fully). */
function typeOf(text: string): unknown {
  try {
    return (JSON.parse(text) as { type?: unknown } | null)?.type;
  } catch {
    return undefined;
  }
}
