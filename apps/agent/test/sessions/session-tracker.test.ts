import { describe, expect, it } from "vitest";
import type { HookEvent } from "../../src/hook/hook-line.ts";
import type { Status3, StatusClient } from "../../src/openvpn/status-parser.ts";
import { SessionTracker } from "../../src/sessions/session-tracker.ts";

const T = 1_795_690_000;

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const hook = (kind: "connect" | "disconnect", commonName: string, connectedAt = T, bytes = 0): HookEvent => ({
  kind,
  commonName,
  realAddress: "192.0.2.11:40000",
  virtualAddress: "10.100.100.10",
  connectedAt,
  bytesReceived: kind === "disconnect" ? bytes : null,
  bytesSent: kind === "disconnect" ? bytes : null,
  durationSeconds: null,
  dev: "sbs-x",
});

const client = (commonName: string, clientId: number, connectedSince = T, bytes = 10): StatusClient => ({
  commonName,
  realAddress: "192.0.2.11:40000",
  virtualAddress: "10.100.100.10",
  virtualIpv6Address: null,
  bytesReceived: bytes,
  bytesSent: bytes,
  connectedSince,
  username: null,
  clientId,
  peerId: clientId,
  cipher: "AES-256-GCM",
});

const status = (...clients: StatusClient[]): Status3 => ({
  title: "x",
  time: T,
  clients,
  routes: [],
  globalStats: {},
  warnings: [],
});
const summary = (events: { event: string; source: string; session: { commonName: string } }[]) =>
  events.map((e) => `${e.event} ${e.session.commonName} (${e.source})`);

describe("SessionTracker", () => {
  it("reports a hook connect at once and merges the management notification into it (adds the client id)", () => {
    const tracker = new SessionTracker();
    expect(summary(tracker.onHook(hook("connect", "web-1")))).toEqual(["connect web-1 (hook)"]);
    const again = tracker.onClientNotification({
      event: "ESTABLISHED",
      clientId: 4,
      keyId: undefined,
      env: { common_name: "web-1", time_unix: String(T), trusted_ip: "192.0.2.11", trusted_port: "40000" },
    });
    expect(again).toEqual([]);
    expect(tracker.clientIdOf("web-1")).toBe(4);
  });

  it("reports a hook disconnect with its final counters", () => {
    const tracker = new SessionTracker();
    tracker.onHook(hook("connect", "web-1"));
    const events = tracker.onHook(hook("disconnect", "web-1", T, 5000));
    expect(summary(events)).toEqual(["disconnect web-1 (hook)"]);
    expect(events[0]?.session).toMatchObject({ bytesReceived: 5000, connectedAt: new Date(T * 1000).toISOString() });
    expect(tracker.sessions()).toEqual([]);
  });

  it("lets status 3 add a connect every instant source missed (agent restarted), with the client id", () => {
    const tracker = new SessionTracker();
    expect(summary(tracker.onStatus(status(client("db-1", 9)), Date.now()))).toEqual(["connect db-1 (status)"]);
    expect(tracker.clientIdOf("db-1")).toBe(9);
  });

  it("ignores a status row of a client still in its handshake (CN UNDEF, no address), but not a host named UNDEF", () => {
    const tracker = new SessionTracker();
    const pending = { ...client("UNDEF", 4), virtualAddress: null };
    expect(tracker.onStatus(status(pending), Date.now())).toEqual([]);
    expect(summary(tracker.onStatus(status(client("UNDEF", 5)), Date.now()))).toEqual(["connect UNDEF (status)"]);
  });

  it("lets status 3 end a session whose disconnect was missed", () => {
    const c = clock();
    const tracker = new SessionTracker({ now: c.now });
    tracker.onHook(hook("connect", "web-1"));
    c.advance(2000);
    expect(summary(tracker.onStatus(status(), c.now()))).toEqual(["disconnect web-1 (status)"]);
  });

  it("does not end a session learned after the status request was sent (race: connect during status)", () => {
    const c = clock();
    const tracker = new SessionTracker({ now: c.now });
    const requestedAt = c.now();
    c.advance(5);
    tracker.onHook(hook("connect", "web-1"));
    expect(tracker.onStatus(status(), requestedAt)).toEqual([]);
    expect(tracker.sessions()).toHaveLength(1);
  });

  it("does not bring back a session that ended after the status was taken (race: disconnect during status)", () => {
    const c = clock();
    const tracker = new SessionTracker({ now: c.now });
    tracker.onHook(hook("connect", "web-1"));
    const requestedAt = c.now();
    tracker.onHook(hook("disconnect", "web-1"));
    expect(tracker.onStatus(status(client("web-1", 4)), requestedAt)).toEqual([]);
    expect(tracker.sessions()).toEqual([]);
  });

  it("forgets ended sessions after a while, so a genuine later report counts", () => {
    const c = clock();
    const tracker = new SessionTracker({ now: c.now, tombstoneMs: 1000 });
    tracker.onHook(hook("connect", "web-1"));
    tracker.onHook(hook("disconnect", "web-1"));
    c.advance(5000);
    expect(summary(tracker.onStatus(status(client("web-1", 4)), c.now()))).toEqual(["connect web-1 (status)"]);
  });

  it("treats a reconnect as the end of the old session and the start of a new one", () => {
    const tracker = new SessionTracker();
    tracker.onHook(hook("connect", "web-1", T));
    expect(summary(tracker.onHook(hook("connect", "web-1", T + 30)))).toEqual([
      "disconnect web-1 (hook)",
      "connect web-1 (hook)",
    ]);
  });

  it("ignores a late disconnect of an older session and a stale status row", () => {
    const tracker = new SessionTracker();
    tracker.onHook(hook("connect", "web-1", T + 30));
    expect(tracker.onHook(hook("disconnect", "web-1", T))).toEqual([]);
    expect(tracker.onStatus(status(client("web-1", 3, T)), 0)).toEqual([]);
    expect(tracker.sessions()).toHaveLength(1);
  });

  it("refreshes counters from status 3 without emitting events", () => {
    const tracker = new SessionTracker();
    tracker.onHook(hook("connect", "web-1"));
    expect(tracker.onStatus(status(client("web-1", 4, T, 777)), 0)).toEqual([]);
    expect(tracker.sessions()[0]).toMatchObject({ bytesReceived: 777, clientId: 4 });
  });
});
