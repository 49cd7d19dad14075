import type { RouteSession } from "./snapshot.ts";

function millis(value: number | string): number {
  const ms = typeof value === "number" ? value : Date.parse(value);
  // An unreadable time must never beat a readable one: treat it as the oldest possible.
  return Number.isFinite(ms) ? ms : Number.NEGATIVE_INFINITY;
}

/**
 * The switch each host is on: its newest session wins, whatever order the rows came in. Equal
 * times (a report with second precision, twice) go to the greater switch id, only so that the
 * answer never depends on row order. `accept` filters out sessions that cannot count (unknown
 * or disabled switch or host) BEFORE choosing, so a stale row on a removed switch cannot hide
 * a live one.
 */
export function newestSessions(
  sessions: readonly RouteSession[],
  accept: (session: RouteSession) => boolean = () => true,
): Map<string, string> {
  const best = new Map<string, { switchId: string; at: number }>();
  for (const session of sessions) {
    if (!accept(session)) continue;
    const at = millis(session.connectedAt);
    const current = best.get(session.commonName);
    if (current === undefined || at > current.at || (at === current.at && session.switchId > current.switchId)) {
      best.set(session.commonName, { switchId: session.switchId, at });
    }
  }
  return new Map([...best].map(([cn, { switchId }]) => [cn, switchId]));
}
