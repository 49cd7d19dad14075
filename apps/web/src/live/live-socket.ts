import type { LiveMessage } from "@switchboard/shared";

export interface Backoff {
  baseMs: number;
  capMs: number;
}

/** Exponential backoff with jitter: attempt 0 waits about baseMs, never more than capMs. */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

export interface LiveSocketOptions {
  url: string;
  onMessage(message: LiveMessage): void;
  /** Each welcome; `reconnected` is true after the first, when messages may have been missed. */
  onWelcome(reconnected: boolean): void;
  onStatus(status: "connecting" | "open" | "reconnecting"): void;
  backoff?: Backoff;
  /** For tests: the WebSocket constructor. */
  socket?: new (
    url: string,
  ) => WebSocket;
}

/** The console's one socket to GET /api/live; reconnects with backoff until stopped. */
export class LiveSocket {
  private socket: WebSocket | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private welcomed = 0;
  private stopped = false;

  constructor(private readonly options: LiveSocketOptions) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.close(1000, "console closed");
    this.socket = undefined;
  }

  /**
   * The browser came back (network online, tab visible or focused): a socket waiting out its
   * backoff tries at once instead of up to 15 s later. An open or connecting socket is left alone.
   */
  retryNow(): void {
    if (this.stopped || this.socket !== undefined) return;
    clearTimeout(this.timer);
    this.attempt = 0;
    this.connect();
  }

  private connect(): void {
    const Socket = this.options.socket ?? WebSocket;
    this.options.onStatus(this.welcomed === 0 ? "connecting" : "reconnecting");
    const socket = new Socket(this.options.url);
    this.socket = socket;
    socket.onmessage = (event) => {
      let message: LiveMessage;
      try {
        message = JSON.parse(String(event.data)) as LiveMessage;
      } catch {
        return;
      }
      // Only objects with a type: anything else is not a message of this feed.
      if (typeof message !== "object" || message === null || typeof message.type !== "string") return;
      if (message.type === "welcome") {
        this.attempt = 0;
        this.options.onStatus("open");
        this.options.onWelcome(this.welcomed++ > 0);
      }
      this.options.onMessage(message);
    };
    socket.onclose = () => {
      if (this.socket !== socket || this.stopped) return;
      this.socket = undefined;
      this.options.onStatus("reconnecting");
      const delay = backoffDelay(this.attempt++, this.options.backoff ?? { baseMs: 500, capMs: 15_000 });
      this.timer = setTimeout(() => this.connect(), delay);
    };
    // An error is followed by close, which schedules the retry.
    socket.onerror = () => undefined;
  }
}

export function liveUrl(location: Location = window.location): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/live`;
}
