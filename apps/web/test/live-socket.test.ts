import { afterEach, describe, expect, it, vi } from "vitest";
import { LiveSocket } from "../src/live/live-socket.ts";

/** Just enough of a browser WebSocket: the test plays the server. */
class FakeSocket {
  static opened: FakeSocket[] = [];
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeSocket.opened.push(this);
  }
  receive(message: unknown) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop() {
    this.onclose?.();
  }
  close() {
    this.closed = true;
  }
}

afterEach(() => {
  vi.useRealTimers();
  FakeSocket.opened = [];
});

describe("the console's live socket", () => {
  it("reconnects after a drop with backoff and reports the second welcome as a reconnect", () => {
    vi.useFakeTimers();
    const welcomes: boolean[] = [];
    const statuses: string[] = [];
    const messages: string[] = [];
    const live = new LiveSocket({
      url: "ws://console/api/live",
      socket: FakeSocket as unknown as new (url: string) => WebSocket,
      backoff: { baseMs: 100, capMs: 1000 },
      onWelcome: (reconnected) => welcomes.push(reconnected),
      onStatus: (status) => statuses.push(status),
      onMessage: (message) => messages.push(message.type),
    });
    live.start();
    const first = FakeSocket.opened[0] as FakeSocket;
    first.receive({ type: "welcome", serverTime: "2026-01-01T00:00:00.000Z" });
    first.onmessage?.({ data: "not json {" });
    first.receive("a string, not a message");
    first.drop();
    expect(FakeSocket.opened).toHaveLength(1);
    vi.advanceTimersByTime(100);
    expect(FakeSocket.opened).toHaveLength(2);
    (FakeSocket.opened[1] as FakeSocket).receive({ type: "welcome", serverTime: "2026-01-01T00:00:01.000Z" });
    expect(welcomes).toEqual([false, true]);
    expect(statuses).toEqual(["connecting", "open", "reconnecting", "reconnecting", "open"]);
    expect(messages).toEqual(["welcome", "welcome"]);
  });

  it("retries at once when the browser comes back, but leaves a live socket alone", () => {
    vi.useFakeTimers();
    const live = new LiveSocket({
      url: "ws://console/api/live",
      socket: FakeSocket as unknown as new (url: string) => WebSocket,
      backoff: { baseMs: 10_000, capMs: 10_000 },
      onWelcome: () => undefined,
      onStatus: () => undefined,
      onMessage: () => undefined,
    });
    live.start();
    live.retryNow();
    expect(FakeSocket.opened).toHaveLength(1);
    (FakeSocket.opened[0] as FakeSocket).drop();
    live.retryNow();
    expect(FakeSocket.opened).toHaveLength(2);
    vi.advanceTimersByTime(10_000);
    expect(FakeSocket.opened).toHaveLength(2);
    live.stop();
  });

  it("stops for good when stopped: a late close schedules nothing", () => {
    vi.useFakeTimers();
    const live = new LiveSocket({
      url: "ws://console/api/live",
      socket: FakeSocket as unknown as new (url: string) => WebSocket,
      onWelcome: () => undefined,
      onStatus: () => undefined,
      onMessage: () => undefined,
    });
    live.start();
    live.stop();
    const socket = FakeSocket.opened[0] as FakeSocket;
    expect(socket.closed).toBe(true);
    socket.drop();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.opened).toHaveLength(1);
  });
});
