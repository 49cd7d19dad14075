import type { RouteSession } from "@switchboard/shared";

/**
 * Which session each host of one network has now, as the agents report it: a pure state machine,
 * so roaming and out-of-order reports are tested without sockets. A host has at most one live
 * session: the newest wins (ties go to the greater switch id, like newestSessions), whatever
 * order reports arrive in; an older session is retired when a newer one appears elsewhere, and a
 * report about an older session than the live one changes nothing.
 */

export interface LiveSession {
  readonly id: string;
  readonly hostId: string;
  readonly commonName: string;
  readonly switchId: string;
  realAddress: string;
  /** Epoch ms (second precision: OpenVPN reports seconds). */
  readonly connectedAt: number;
  bytesIn: number;
  bytesOut: number;
  clientId: number | null;
}

export interface Reported {
  readonly commonName: string;
  readonly realAddress: string | null;
  readonly clientId: number | null;
  readonly connectedAt: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** What a report did, for the session table and the route computation. */
export type SessionChange =
  | { readonly kind: "started"; readonly session: LiveSession }
  | {
      readonly kind: "ended";
      readonly session: LiveSession;
      readonly at: number;
      readonly reason: "disconnect" | "roamed" | "gone";
    }
  | { readonly kind: "updated"; readonly session: LiveSession };

/** Hook time, management time and status 3 all come from OpenVPN's clock in seconds; allow one second. */
const SAME_SESSION_MS = 1000;

function newer(a: { connectedAt: number; switchId: string }, b: { connectedAt: number; switchId: string }): boolean {
  return a.connectedAt > b.connectedAt || (a.connectedAt === b.connectedAt && a.switchId > b.switchId);
}

export class LiveSessions {
  private readonly byHost = new Map<string, LiveSession>();

  constructor(private readonly newId: () => string) {}

  /** Puts back sessions the database held (API restart). */
  restore(sessions: Iterable<LiveSession>): void {
    for (const session of sessions) {
      const current = this.byHost.get(session.commonName);
      if (!current || newer(session, current)) this.byHost.set(session.commonName, session);
    }
  }

  get(commonName: string): LiveSession | undefined {
    return this.byHost.get(commonName);
  }

  all(): LiveSession[] {
    return [...this.byHost.values()];
  }

  routeSessions(): RouteSession[] {
    return this.all().map((s) => ({ commonName: s.commonName, switchId: s.switchId, connectedAt: s.connectedAt }));
  }

  connect(switchId: string, hostId: string, reported: Reported, at: number): SessionChange[] {
    const current = this.byHost.get(reported.commonName);
    if (
      current &&
      current.switchId === switchId &&
      Math.abs(current.connectedAt - reported.connectedAt) <= SAME_SESSION_MS
    ) {
      current.realAddress = reported.realAddress ?? current.realAddress;
      current.clientId = reported.clientId ?? current.clientId;
      current.bytesIn = Math.max(current.bytesIn, reported.bytesIn);
      current.bytesOut = Math.max(current.bytesOut, reported.bytesOut);
      return [{ kind: "updated", session: current }];
    }
    const candidate = { connectedAt: reported.connectedAt, switchId };
    if (current && !newer(candidate, current)) return []; // A late report of an older session.
    const changes: SessionChange[] = [];
    if (current) {
      changes.push({
        kind: "ended",
        session: current,
        at,
        reason: current.switchId === switchId ? "disconnect" : "roamed",
      });
    }
    const session: LiveSession = {
      id: this.newId(),
      hostId,
      commonName: reported.commonName,
      switchId,
      realAddress: reported.realAddress ?? "",
      connectedAt: reported.connectedAt,
      bytesIn: reported.bytesIn,
      bytesOut: reported.bytesOut,
      clientId: reported.clientId,
    };
    this.byHost.set(session.commonName, session);
    changes.push({ kind: "started", session });
    return changes;
  }

  disconnect(switchId: string, reported: Reported, at: number): SessionChange[] {
    const current = this.byHost.get(reported.commonName);
    if (
      !current ||
      current.switchId !== switchId ||
      Math.abs(current.connectedAt - reported.connectedAt) > SAME_SESSION_MS
    ) {
      return []; // Already retired (roamed) or never known.
    }
    current.bytesIn = Math.max(current.bytesIn, reported.bytesIn);
    current.bytesOut = Math.max(current.bytesOut, reported.bytesOut);
    this.byHost.delete(current.commonName);
    return [{ kind: "ended", session: current, at, reason: "disconnect" }];
  }

  /** Everything the switch has now: its live sessions missing from the list are over. */
  snapshot(switchId: string, reported: readonly (Reported & { hostId: string })[], at: number): SessionChange[] {
    const changes: SessionChange[] = [];
    const present = new Set(reported.map((r) => r.commonName));
    for (const session of this.all()) {
      if (session.switchId !== switchId || present.has(session.commonName)) continue;
      this.byHost.delete(session.commonName);
      changes.push({ kind: "ended", session, at, reason: "gone" });
    }
    for (const r of reported) changes.push(...this.connect(switchId, r.hostId, r, at));
    return changes;
  }
}
