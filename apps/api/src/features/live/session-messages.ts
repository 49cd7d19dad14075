import type { LiveMessage, SessionRecord } from "@switchboard/shared";
import type { LiveSession, SessionChange } from "../agents/sessions/live-sessions.ts";

type LiveSessionMessage = Extract<LiveMessage, { type: "session" }>;

function record(networkId: string, session: LiveSession): SessionRecord {
  return {
    id: session.id,
    hostId: session.hostId,
    commonName: session.commonName,
    switchId: session.switchId,
    networkId,
    realAddress: session.realAddress,
    connectedAt: new Date(session.connectedAt).toISOString(),
    bytesIn: session.bytesIn,
    bytesOut: session.bytesOut,
  };
}

/**
 * What one batch of session table changes means to a console. A roam arrives as the old
 * session ended with reason "roamed" and the host's new one started: one `roamed` message with
 * the switch it left. Counter refreshes ("updated") are not news.
 */
export function sessionMessages(networkId: string, changes: readonly SessionChange[], at: Date): LiveSessionMessage[] {
  const roamedFrom = new Map<string, string>();
  for (const change of changes) {
    if (change.kind === "ended" && change.reason === "roamed") {
      roamedFrom.set(change.session.commonName, change.session.switchId);
    }
  }
  const messages: LiveSessionMessage[] = [];
  const base = { type: "session" as const, at: at.toISOString() };
  for (const change of changes) {
    if (change.kind === "updated") continue;
    const { session } = change;
    if (change.kind === "ended") {
      if (change.reason === "roamed") continue; // Told with the new session.
      messages.push({ ...base, change: "disconnected", session: record(networkId, session), previousSwitchId: null });
      continue;
    }
    const previousSwitchId = roamedFrom.get(session.commonName) ?? null;
    messages.push({
      ...base,
      change: previousSwitchId === null ? "connected" : "roamed",
      session: record(networkId, session),
      previousSwitchId,
    });
  }
  return messages;
}
