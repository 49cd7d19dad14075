import type { EndReason, LiveSession } from "./live-sessions.ts";

/**
 * Session changes as they travel between API instances (cluster/event-log.ts, kind "sessions"):
 * what one instance wrote to the Session table in one batch, in the same transaction. Another
 * instance mirrors them into its own live table (LiveSessions.mirror), so routes are computed
 * from the same sessions everywhere.
 */
export const SESSIONS_EVENT = "sessions";

export interface WireSession {
  id: string;
  hostId: string;
  commonName: string;
  switchId: string;
  realAddress: string;
  connectedAt: number;
  bytesIn: number;
  bytesOut: number;
  clientId: number | null;
  /** An unconfirmed takeover: whichever instance gets the claiming switch's next snapshot settles it. */
  claim?: { since: number; displaced: WireSession | null };
}

export interface WireUpdate {
  id: string;
  commonName: string;
  realAddress: string;
  clientId: number | null;
  bytesIn: number;
  bytesOut: number;
  /** False once a claim was confirmed. */
  claimed: boolean;
}

export interface WireEnd {
  id: string;
  commonName: string;
  at: number;
  reason: EndReason;
}

export interface WireBatch {
  started: WireSession[];
  updated: WireUpdate[];
  ended: WireEnd[];
}

export function toWire(session: LiveSession): WireSession {
  const { claim, ...rest } = session;
  const wire: WireSession = {
    id: rest.id,
    hostId: rest.hostId,
    commonName: rest.commonName,
    switchId: rest.switchId,
    realAddress: rest.realAddress,
    connectedAt: rest.connectedAt,
    bytesIn: rest.bytesIn,
    bytesOut: rest.bytesOut,
    clientId: rest.clientId,
  };
  if (claim) wire.claim = { since: claim.since, displaced: claim.displaced ? toWire(claim.displaced) : null };
  return wire;
}

export function fromWire(wire: WireSession): LiveSession {
  const { claim, ...rest } = wire;
  return claim
    ? { ...rest, claim: { since: claim.since, displaced: claim.displaced && fromWire(claim.displaced) } }
    : rest;
}

export function updateOf(session: LiveSession): WireUpdate {
  return {
    id: session.id,
    commonName: session.commonName,
    realAddress: session.realAddress,
    clientId: session.clientId,
    bytesIn: session.bytesIn,
    bytesOut: session.bytesOut,
    claimed: session.claim !== undefined,
  };
}

/** One batch from what was written: a session that started and ended within it is only news as an end. */
export function wireBatch(
  started: readonly LiveSession[],
  updated: readonly LiveSession[],
  ended: readonly { session: LiveSession; at: number; reason: EndReason }[],
): WireBatch {
  const endedHere = new Set(ended.map((end) => end.session.id));
  return {
    started: started.filter((session) => !endedHere.has(session.id)).map(toWire),
    updated: updated.map(updateOf),
    ended: ended.map(({ session, at, reason }) => ({ id: session.id, commonName: session.commonName, at, reason })),
  };
}
