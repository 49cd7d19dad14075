import type { AgentStatus, BackboneLinkEnd, LiveMessage, LiveResource, SessionRecord } from "@switchboard/shared";
import type { QueryClient, QueryKey } from "@tanstack/react-query";
import { agentKeys } from "../features/agents/queries.ts";
import { networkKeys } from "../features/networks/queries.ts";
import { sessionListKeys } from "../features/sessions/queries.ts";

// The live feed's effect on the query cache. Socket messages never reach component state: they
// update cached lists (newer data only) or mark them stale, and the pages read the cache.

export type LinkState = "up" | "down" | "unknown";

export const liveKeys = {
  events: ["live", "events"] as const,
  status: ["live", "status"] as const,
};

export type LiveStatus = "connecting" | "open" | "reconnecting";

export interface LiveEvent {
  key: number;
  message: Exclude<LiveMessage, { type: "welcome" }>;
}

export const MAX_EVENTS = 100;

/**
 * A link from its two ends' reports: down when either end says down, up when both say up,
 * unknown otherwise (an end whose agent is offline, or an agent that does not watch its links).
 */
export function linkState(ends: readonly BackboneLinkEnd[], a: string, b: string): LinkState {
  const ab = ends.find((e) => e.switchId === a && e.peerSwitchId === b);
  const ba = ends.find((e) => e.switchId === b && e.peerSwitchId === a);
  if (ab?.up === false || ba?.up === false) return "down";
  return ab?.up && ba?.up ? "up" : "unknown";
}

/** The ends of a network's links after one link message (newer reports only). */
export function applyLinkEnd(
  ends: readonly BackboneLinkEnd[],
  message: Extract<LiveMessage, { type: "link" }>,
): BackboneLinkEnd[] {
  const current = ends.find((e) => e.switchId === message.switchId && e.peerSwitchId === message.peerSwitchId);
  if (current && current.reportedAt > message.at) return ends as BackboneLinkEnd[];
  const end: BackboneLinkEnd = {
    switchId: message.switchId,
    peerSwitchId: message.peerSwitchId,
    up: message.up,
    since: current?.up === message.up ? current.since : message.at,
    reportedAt: message.at,
  };
  return [...ends.filter((e) => e !== current), end];
}

/** A session list after one session message; stale reports (older than what is listed) change nothing. */
export function applySession(
  list: readonly SessionRecord[],
  message: Extract<LiveMessage, { type: "session" }>,
): SessionRecord[] {
  const { session } = message;
  const current = list.find((s) => s.hostId === session.hostId);
  if (message.change === "disconnected") {
    if (!current || current.connectedAt > session.connectedAt) return list as SessionRecord[];
    return list.filter((s) => s !== current);
  }
  if (current && current.connectedAt > session.connectedAt) return list as SessionRecord[];
  return [session, ...list.filter((s) => s.hostId !== session.hostId)];
}

/** Which cached resources a change made through the API makes stale. */
export function staleKeysOf(resource: LiveResource): QueryKey[] {
  switch (resource) {
    case "networks":
      return [["networks"], ["switches"]];
    case "switches":
      return [["switches"], ["agents"]];
    case "hosts":
      // A new or changed host gets a certificate; a removed one loses its session.
      return [["hosts"], ["certificates"], ["sessions"]];
    default:
      return [[resource]];
  }
}

/**
 * Applies one message. `invalidate` is given the keys to refetch (the caller batches them); every
 * change is audited, so the audit log is stale after each one too.
 */
export function applyLiveMessage(
  client: QueryClient,
  message: LiveMessage,
  invalidate: (keys: QueryKey[]) => void,
  nextEventKey: () => number,
): void {
  switch (message.type) {
    case "welcome":
      return;
    case "session": {
      client.setQueryData<SessionRecord[]>(sessionListKeys.list(), (list) =>
        list ? applySession(list, message) : list,
      );
      // The switches' routes follow the sessions.
      invalidate([["switches", "routes"]]);
      break;
    }
    case "agent":
      // The server sends an agent's statuses in order, each read back after its write, so the
      // latest message is the newest status (lastSeenAt is batched and may step back: no use here).
      client.setQueryData<AgentStatus>(agentKeys.status(message.status.switchId), message.status);
      // An agent gone offline takes its link ends with it: they are unknown now, not down.
      if (!message.status.online) {
        client.setQueryData<BackboneLinkEnd[]>(networkKeys.links(message.networkId), (ends) =>
          ends?.filter((e) => e.switchId !== message.status.switchId),
        );
      }
      break;
    case "link":
      client.setQueryData<BackboneLinkEnd[]>(networkKeys.links(message.networkId), (ends) =>
        ends ? applyLinkEnd(ends, message) : ends,
      );
      break;
    case "changed":
      invalidate([...staleKeysOf(message.resource), ["audit"]]);
      break;
  }
  client.setQueryData<LiveEvent[]>(liveKeys.events, (old) =>
    [{ key: nextEventKey(), message }, ...(old ?? [])].slice(0, MAX_EVENTS),
  );
}
