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
 * the switch it left. A withdrawn claim whose host goes back where it was reads the same way (the
 * conflict itself has a message of its own). Counter refreshes and confirmations are not news.
 */
export function sessionMessages(networkId: string, changes: readonly SessionChange[], at: Date): LiveSessionMessage[] {
  const lastStart = new Map<string, number>();
  changes.forEach((change, index) => {
    if (change.kind === "started") lastStart.set(change.session.commonName, index);
  });
  const movedFrom = new Map<string, string>();
  const messages: LiveSessionMessage[] = [];
  const base = { type: "session" as const, at: at.toISOString() };
  for (const [index, change] of changes.entries()) {
    if (change.kind === "ended") {
      const { session } = change;
      const moves = change.reason === "roamed" || change.reason === "withdrawn";
      if (moves && (lastStart.get(session.commonName) ?? -1) > index) {
        movedFrom.set(session.commonName, session.switchId); // Told with the new session.
        continue;
      }
      messages.push({ ...base, change: "disconnected", session: record(networkId, session), previousSwitchId: null });
      continue;
    }
    if (change.kind !== "started") continue;
    const { session } = change;
    const previousSwitchId = movedFrom.get(session.commonName) ?? null;
    movedFrom.delete(session.commonName);
    messages.push({
      ...base,
      change: previousSwitchId === null ? "connected" : "roamed",
      session: record(networkId, session),
      previousSwitchId,
    });
  }
  return messages;
}
