import type { Session, SessionEvent, SessionSource } from "@switchboard/shared";
import type { HookEvent } from "../hook/hook-line.ts";
import type { ClientNotification } from "../openvpn/management-client.ts";
import type { Status3 } from "../openvpn/status-parser.ts";

/**
 * Who is connected to this switch, from three sources that each miss something:
 *   - the client hook: connects AND disconnects within milliseconds, but nothing while the agent
 *     is down, and no client id;
 *   - `>CLIENT:ESTABLISHED` on the management connection: connects within milliseconds with
 *     the client id, but no disconnects (those need --management-client-auth, which we avoid);
 *   - `status 3` every 2 s: the truth, with ids and byte counts, but late.
 * A session is (common name, connected-since second). Instant sources create and end sessions;
 * status 3 adds what they missed and ends what is gone. Two races are handled: a status taken
 * before a connect event arrived must not end that new session (sessions learned after the
 * status was requested are kept), and a status taken before a disconnect must not resurrect the
 * session (recently ended sessions are remembered for a while and ignored).
 */

interface Tracked {
  commonName: string;
  realAddress: string | null;
  virtualAddress: string | null;
  clientId: number | null;
  connectedAt: number;
  bytesReceived: number;
  bytesSent: number;
  /** Agent clock (ms) when first learned. */
  learnedAt: number;
}

export interface SessionTrackerOptions {
  readonly now?: () => number;
  /** How long an ended session is remembered so a late status 3 does not bring it back. */
  readonly tombstoneMs?: number;
}

/** time_unix and Connected Since come from the same OpenVPN clock; allow a second of skew anyway. */
function sameSession(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1;
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

export class SessionTracker {
  private readonly byName = new Map<string, Tracked>();
  private readonly ended = new Map<string, number>();
  private readonly now: () => number;
  private readonly tombstoneMs: number;

  constructor(options: SessionTrackerOptions = {}) {
    this.now = options.now ?? Date.now;
    this.tombstoneMs = options.tombstoneMs ?? 30_000;
  }

  /** Sessions as the protocol reports them. */
  sessions(): Session[] {
    return [...this.byName.values()].map((t) => this.toSession(t));
  }

  /** What the reconcile plan needs: who is here, and the client id when known. */
  observed(): { commonName: string; clientId: number | null }[] {
    return [...this.byName.values()].map((t) => ({ commonName: t.commonName, clientId: t.clientId }));
  }

  clientIdOf(commonName: string): number | null {
    return this.byName.get(commonName)?.clientId ?? null;
  }

  onHook(event: HookEvent): SessionEvent[] {
    if (event.kind === "connect") {
      return this.connect("hook", {
        commonName: event.commonName,
        realAddress: event.realAddress,
        virtualAddress: event.virtualAddress,
        clientId: null,
        connectedAt: event.connectedAt,
        bytesReceived: 0,
        bytesSent: 0,
      });
    }
    return this.disconnect("hook", event.commonName, event.connectedAt, event.bytesReceived, event.bytesSent);
  }

  onClientNotification(notification: ClientNotification): SessionEvent[] {
    if (notification.event !== "ESTABLISHED") return [];
    const env = notification.env;
    const commonName = env.common_name;
    const connectedAt = Number(env.time_unix);
    if (!commonName || !Number.isSafeInteger(connectedAt)) return [];
    const ip = env.trusted_ip ?? env.untrusted_ip;
    const port = env.trusted_port ?? env.untrusted_port;
    return this.connect("management", {
      commonName,
      realAddress: ip ? (port ? `${ip}:${port}` : ip) : null,
      virtualAddress: env.ifconfig_pool_remote_ip || null,
      clientId: notification.clientId,
      connectedAt,
      bytesReceived: 0,
      bytesSent: 0,
    });
  }

  /**
   * A full status 3 taken by a command sent at `requestedAt` (agent clock). Returns the events it
   * implies; byte counters and client ids are refreshed silently.
   */
  onStatus(status: Status3, requestedAt: number): SessionEvent[] {
    this.expireTombstones();
    const events: SessionEvent[] = [];
    const present = new Set<string>();
    for (const client of status.clients) {
      // A client still in its TLS handshake (or being refused: a revoked certificate) is
      // listed as UNDEF with no address; it is not a session.
      if (client.commonName === "UNDEF" && client.virtualAddress === null) continue;
      present.add(client.commonName);
      if (this.isEnded(client.commonName, client.connectedSince)) continue;
      const fresh = {
        commonName: client.commonName,
        realAddress: client.realAddress,
        virtualAddress: client.virtualAddress,
        clientId: client.clientId,
        connectedAt: client.connectedSince,
        bytesReceived: client.bytesReceived,
        bytesSent: client.bytesSent,
      };
      const known = this.byName.get(client.commonName);
      if (known !== undefined && client.connectedSince < known.connectedAt - 1) continue; // older than what we know: stale
      events.push(...this.connect("status", fresh));
    }
    for (const tracked of [...this.byName.values()]) {
      if (present.has(tracked.commonName) || tracked.learnedAt >= requestedAt) continue;
      events.push(...this.disconnect("status", tracked.commonName, tracked.connectedAt, null, null));
    }
    return events;
  }

  private connect(source: SessionSource, fresh: Omit<Tracked, "learnedAt">): SessionEvent[] {
    const events: SessionEvent[] = [];
    const known = this.byName.get(fresh.commonName);
    if (known !== undefined && sameSession(known.connectedAt, fresh.connectedAt)) {
      // The same session from another source: fill in what this one knows better.
      known.clientId = fresh.clientId ?? known.clientId;
      known.realAddress = fresh.realAddress ?? known.realAddress;
      known.virtualAddress = fresh.virtualAddress ?? known.virtualAddress;
      known.bytesReceived = Math.max(known.bytesReceived, fresh.bytesReceived);
      known.bytesSent = Math.max(known.bytesSent, fresh.bytesSent);
      return events;
    }
    if (known !== undefined) {
      if (fresh.connectedAt < known.connectedAt) return events;
      // A reconnect whose disconnect we missed: end the old session first.
      events.push(...this.disconnect(source, known.commonName, known.connectedAt, null, null));
    }
    const tracked: Tracked = { ...fresh, learnedAt: this.now() };
    this.byName.set(fresh.commonName, tracked);
    events.push({ event: "connect", source, at: new Date(this.now()).toISOString(), session: this.toSession(tracked) });
    return events;
  }

  private disconnect(
    source: SessionSource,
    commonName: string,
    connectedAt: number,
    bytesReceived: number | null,
    bytesSent: number | null,
  ): SessionEvent[] {
    this.ended.set(`${commonName}\u0000${connectedAt}`, this.now());
    const events: SessionEvent[] = [];
    const at = new Date(this.now()).toISOString();
    const known = this.byName.get(commonName);
    let base: Omit<Tracked, "learnedAt">;
    if (known !== undefined && sameSession(known.connectedAt, connectedAt)) {
      base = known;
    } else if (known !== undefined && connectedAt < known.connectedAt) {
      return events; // A late disconnect of an older session: the current one stays.
    } else {
      if (known !== undefined) {
        // The one we track was replaced by a session we never saw start: both are over.
        this.ended.set(`${commonName}\u0000${known.connectedAt}`, this.now());
        events.push({ event: "disconnect", source, at, session: this.toSession(known) });
      }
      base = {
        commonName,
        realAddress: null,
        virtualAddress: null,
        clientId: null,
        connectedAt,
        bytesReceived: 0,
        bytesSent: 0,
      };
    }
    this.byName.delete(commonName);
    const final = {
      ...base,
      bytesReceived: bytesReceived ?? base.bytesReceived,
      bytesSent: bytesSent ?? base.bytesSent,
    };
    events.push({ event: "disconnect", source, at, session: this.toSession(final) });
    return events;
  }

  private isEnded(commonName: string, connectedAt: number): boolean {
    for (const delta of [0, -1, 1]) if (this.ended.has(`${commonName}\u0000${connectedAt + delta}`)) return true;
    return false;
  }

  private expireTombstones(): void {
    const limit = this.now() - this.tombstoneMs;
    for (const [key, at] of this.ended) if (at < limit) this.ended.delete(key);
  }

  private toSession(t: Omit<Tracked, "learnedAt">): Session {
    return {
      commonName: t.commonName,
      realAddress: t.realAddress,
      virtualAddress: t.virtualAddress,
      clientId: t.clientId,
      connectedAt: iso(t.connectedAt),
      bytesReceived: t.bytesReceived,
      bytesSent: t.bytesSent,
    };
  }
}
