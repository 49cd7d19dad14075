import type { AgentStatus, BackboneLinkEnd, LiveMessage, SessionRecord } from "@switchboard/shared";
import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import { agentKeys } from "../src/features/agents/queries.ts";
import { networkKeys } from "../src/features/networks/queries.ts";
import { sessionListKeys } from "../src/features/sessions/queries.ts";
import {
  applyLinkEnd,
  applyLiveMessage,
  applySession,
  type LiveEvent,
  linkState,
  liveKeys,
} from "../src/live/live-cache.ts";
import { backoffDelay } from "../src/live/live-socket.ts";

const record = (hostId: string, switchId: string, connectedAt: string): SessionRecord => ({
  id: `${hostId}-${switchId}-${connectedAt}`,
  hostId,
  commonName: hostId,
  switchId,
  networkId: "n1",
  realAddress: "198.51.100.7:1194",
  connectedAt,
  bytesIn: 0,
  bytesOut: 0,
});
type SessionMessage = Extract<LiveMessage, { type: "session" }>;
const sessionMessage = (change: SessionMessage["change"], session: SessionRecord, previous: string | null = null) =>
  ({ type: "session", change, session, previousSwitchId: previous, at: session.connectedAt }) as SessionMessage;

const T1 = "2026-01-01T00:00:01.000Z";
const T2 = "2026-01-01T00:00:02.000Z";

describe("session messages on the cached session list", () => {
  it("adds a connected host and moves a roamed one (one session per host)", () => {
    const online = applySession([], sessionMessage("connected", record("h1", "A", T1)));
    expect(online.map((s) => s.switchId)).toEqual(["A"]);
    const roamed = applySession(online, sessionMessage("roamed", record("h1", "B", T2), "A"));
    expect(roamed.map((s) => [s.hostId, s.switchId])).toEqual([["h1", "B"]]);
  });

  it("ignores a report older than the session it knows, in either direction", () => {
    const list = [record("h1", "B", T2)];
    expect(applySession(list, sessionMessage("connected", record("h1", "A", T1)))).toBe(list);
    expect(applySession(list, sessionMessage("disconnected", record("h1", "A", T1)))).toBe(list);
  });

  it("removes the host on disconnect", () => {
    const list = [record("h1", "A", T1), record("h2", "A", T1)];
    expect(applySession(list, sessionMessage("disconnected", record("h1", "A", T1))).map((s) => s.hostId)).toEqual([
      "h2",
    ]);
  });
});

describe("backbone link ends", () => {
  const end = (switchId: string, peerSwitchId: string, up: boolean): BackboneLinkEnd => ({
    switchId,
    peerSwitchId,
    up,
    since: T1,
    reportedAt: T1,
  });

  it("is up only when both ends say up, down when either says down, unknown otherwise", () => {
    expect(linkState([end("A", "B", true), end("B", "A", true)], "A", "B")).toBe("up");
    expect(linkState([end("A", "B", true), end("B", "A", false)], "B", "A")).toBe("down");
    expect(linkState([end("A", "B", false)], "A", "B")).toBe("down");
    expect(linkState([end("A", "B", true)], "A", "B")).toBe("unknown");
    expect(linkState([], "A", "B")).toBe("unknown");
  });

  it("takes a newer report of an end and ignores an older one", () => {
    const message = (up: boolean, at: string) =>
      ({ type: "link", networkId: "n1", switchId: "A", peerSwitchId: "B", up, at }) as Extract<
        LiveMessage,
        { type: "link" }
      >;
    const ends = applyLinkEnd([end("A", "B", true)], message(false, T2));
    expect(ends).toEqual([{ switchId: "A", peerSwitchId: "B", up: false, since: T2, reportedAt: T2 }]);
    expect(applyLinkEnd(ends, message(true, T1))).toBe(ends);
  });
});

describe("applying live messages to the query cache", () => {
  const status = (switchId: string, online: boolean, lastSeenAt: string): AgentStatus => ({
    switchId,
    online,
    agentVersion: "1.0.0",
    revisionDesired: 3,
    revisionApplied: 3,
    lastError: null,
    renderError: null,
    connectedAt: T1,
    lastSeenAt,
    enrolled: true,
  });

  it("updates cached lists in place, records the event, and asks to refetch what a change made stale", () => {
    const client = new QueryClient();
    client.setQueryData(sessionListKeys.list(), []);
    client.setQueryData(networkKeys.links("n1"), [
      { switchId: "A", peerSwitchId: "B", up: true, since: T1, reportedAt: T1 },
      { switchId: "B", peerSwitchId: "A", up: true, since: T1, reportedAt: T1 },
    ]);
    const stale: unknown[] = [];
    let key = 0;
    const apply = (message: LiveMessage) =>
      applyLiveMessage(
        client,
        message,
        (keys) => stale.push(...keys),
        () => ++key,
      );

    apply(sessionMessage("connected", record("h1", "A", T1)));
    expect(client.getQueryData<SessionRecord[]>(sessionListKeys.list())?.map((s) => s.hostId)).toEqual(["h1"]);

    client.setQueryData(agentKeys.status("A"), { ...status("A", true, T2), revisionApplied: null });
    apply({ type: "agent", networkId: "n1", status: status("A", true, T1), at: T2 });
    // The latest message wins, even when its batched lastSeenAt is earlier than the fetched one.
    expect(client.getQueryData<AgentStatus>(agentKeys.status("A"))?.revisionApplied).toBe(3);

    // An agent that goes offline takes its link ends along: the link is unknown, not down.
    apply({ type: "agent", networkId: "n1", status: status("B", false, T2), at: T2 });
    expect(client.getQueryData<BackboneLinkEnd[]>(networkKeys.links("n1"))?.map((e) => e.switchId)).toEqual(["A"]);

    apply({
      type: "changed",
      resource: "hosts",
      id: null,
      networkId: "n1",
      action: "host.create",
      actor: "admin",
      at: T2,
    });
    expect(stale).toContainEqual(["hosts"]);
    expect(stale).toContainEqual(["audit"]);

    const events = client.getQueryData<LiveEvent[]>(liveKeys.events) ?? [];
    expect(events.map((e) => e.message.type)).toEqual(["changed", "agent", "agent", "session"]);
  });

  it("leaves a list that is not loaded alone (its first fetch will be fresh)", () => {
    const client = new QueryClient();
    applyLiveMessage(
      client,
      sessionMessage("connected", record("h1", "A", T1)),
      () => undefined,
      () => 1,
    );
    expect(client.getQueryData(sessionListKeys.list())).toBeUndefined();
  });
});

describe("reconnect backoff", () => {
  it("doubles from the base with jitter and never exceeds the cap", () => {
    const backoff = { baseMs: 500, capMs: 15_000 };
    expect(backoffDelay(0, backoff, () => 0)).toBe(250);
    expect(backoffDelay(0, backoff, () => 1)).toBe(500);
    expect(backoffDelay(3, backoff, () => 1)).toBe(4000);
    expect(backoffDelay(50, backoff, () => 1)).toBe(15_000);
  });
});
