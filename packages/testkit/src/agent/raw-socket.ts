import WebSocket from "ws";

export { WebSocket };

/** A bare websocket client for protocol tests: frames received, close code, and a way to wait for them. */
export interface RawSocket {
  readonly socket: WebSocket;
  readonly received: Record<string, unknown>[];
  closed: { code: number; reason: string } | undefined;
  /** Resolves with the first received frame (from now on or already received) matching `test`. */
  next(test: (frame: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  waitClosed(timeoutMs?: number): Promise<{ code: number; reason: string }>;
}

export function openRawSocket(
  url: string,
  headers: Record<string, string>,
  options: { autoPong?: boolean } = {},
): Promise<RawSocket> {
  const socket = new WebSocket(url, { headers, autoPong: options.autoPong ?? true });
  const raw: RawSocket = {
    socket,
    received: [],
    closed: undefined,
    async next(test, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = raw.received.find(test);
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(raw.received)}`);
    },
    async waitClosed(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (raw.closed === undefined) {
        if (Date.now() > deadline) throw new Error(`socket still open after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return raw.closed;
    },
  };
  socket.on("message", (data) => raw.received.push(JSON.parse(String(data))));
  socket.on("close", (code, reason) => {
    raw.closed = { code, reason: reason.toString() };
  });
  return new Promise((resolve, reject) => {
    socket.once("open", () => resolve(raw));
    socket.once("error", reject);
  });
}
