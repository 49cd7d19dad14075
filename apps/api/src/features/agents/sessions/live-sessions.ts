import type { RouteSession } from "@switchboard/shared";
import { fromWire, type WireBatch } from "./session-wire.ts";

/**
 * Which session each host of one network has now, as the agents report it: a pure state machine,
 * so roaming and out-of-order reports are tested without sockets. A host has at most one live
 * session: the newest wins (ties go to the greater switch id, like newestSessions), whatever
 * order reports arrive in; an older session is retired when a newer one appears elsewhere, and a
 * report about an older session than the live one changes nothing.
 *
 * A switch is believed only about its own clients, and only as far as its OpenVPN backs it up. A
 * session that takes a host from another switch (a takeover) moves the routes at once, as a roam
 * must, but stays a claim until the claiming switch's next snapshot (status 3) lists it. A
 * snapshot without it, or a status 3 poll that ends it, withdraws the claim: the session the
 * host had before comes back and the conflict is told. Once a takeover is confirmed, the switch
 * it came from is asked too: still listing the host's older session there is a double claim.
 */

/** Why a session ended: reported, replaced elsewhere, missing from a snapshot, or the API's own decisions. */
export type EndReason = "disconnect" | "roamed" | "gone" | "withdrawn" | "cleared" | "revoked" | "disabled";

/** A takeover not yet backed by the claiming switch's status 3. */
export interface Claim {
  /** The last confirmed session it took the host from, to put back if the claim is withdrawn (null: nothing to put back). */
  displaced: LiveSession | null;
  /** API clock (ms) when the switch first made it: a newer session of the same claim keeps this deadline. */
  readonly since: number;
}

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
  /** Set while the session is an unconfirmed takeover. */
  claim?: Claim;
}

export interface Reported {
  readonly commonName: string;
  readonly realAddress: string | null;
  readonly clientId: number | null;
  readonly connectedAt: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** A claim the API did not simply believe. */
export interface ClaimConflict {
  readonly kind: "withdrawn" | "double";
  readonly commonName: string;
  readonly hostId: string;
  /** withdrawn: the switch whose claim it was; double: the switch with the newer, confirmed claim. */
  readonly claimedBy: string;
  /** The switch the host's session is on after this (null: none). */
  readonly heldBy: string | null;
  readonly reason: string;
}

/** What a report did, for the session table, the route computation and the claim checks. */
export type SessionChange =
  | { readonly kind: "started"; readonly session: LiveSession }
  | { readonly kind: "ended"; readonly session: LiveSession; readonly at: number; readonly reason: EndReason }
  | { readonly kind: "updated"; readonly session: LiveSession }
  /** A takeover the claiming switch's snapshot listed; `displaced` is the session it took over, if any. */
  | { readonly kind: "confirmed"; readonly session: LiveSession; readonly displaced: LiveSession | null }
  | { readonly kind: "conflict"; readonly conflict: ClaimConflict };

/** A displaced session whose switch is asked whether it still lists it (a double claim if so). */
interface Echo {
  readonly switchId: string;
  readonly connectedAt: number;
  readonly claimedBy: string;
}

/** Hook time, management time and status 3 all come from OpenVPN's clock in seconds; allow one second. */
const SAME_SESSION_MS = 1000;

const sameSession = (a: number, b: number) => Math.abs(a - b) <= SAME_SESSION_MS;

function newer(a: { connectedAt: number; switchId: string }, b: { connectedAt: number; switchId: string }): boolean {
  return a.connectedAt > b.connectedAt || (a.connectedAt === b.connectedAt && a.switchId > b.switchId);
}

export class LiveSessions {
  private readonly byHost = new Map<string, LiveSession>();
  private readonly echoes = new Map<string, Echo>();

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
    if (current && current.switchId === switchId && sameSession(current.connectedAt, reported.connectedAt)) {
      current.realAddress = reported.realAddress ?? current.realAddress;
      current.clientId = reported.clientId ?? current.clientId;
      current.bytesIn = Math.max(current.bytesIn, reported.bytesIn);
      current.bytesOut = Math.max(current.bytesOut, reported.bytesOut);
      return [{ kind: "updated", session: current }];
    }
    const candidate = { connectedAt: reported.connectedAt, switchId };
    if (current && !newer(candidate, current)) return []; // A late report of an older session.
    const changes: SessionChange[] = [];
    let claim: Claim | undefined;
    if (current) {
      const elsewhere = current.switchId !== switchId;
      changes.push({ kind: "ended", session: current, at, reason: elsewhere ? "roamed" : "disconnect" });
      if (elsewhere) {
        // Taking over an unconfirmed claim: what a withdrawal puts back is still the last confirmed holder.
        const holder = current.claim ? current.claim.displaced : current;
        claim = { displaced: holder && holder.switchId !== switchId ? holder : null, since: at };
      } else if (current.claim) {
        claim = current.claim; // A newer session of an unconfirmed claim is just as unconfirmed.
      }
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
      ...(claim ? { claim } : {}),
    };
    this.byHost.set(session.commonName, session);
    changes.push({ kind: "started", session });
    return changes;
  }

  /** `fromStatus`: the switch's status 3 poll found the session gone, which is its word against its own claim. */
  disconnect(switchId: string, reported: Reported, at: number, fromStatus = false): SessionChange[] {
    const current = this.byHost.get(reported.commonName);
    if (!current || current.switchId !== switchId || !sameSession(current.connectedAt, reported.connectedAt)) {
      // The displaced session ended for real: nothing to put back, nothing to compare.
      const displaced = current?.claim?.displaced;
      if (
        current?.claim &&
        displaced?.switchId === switchId &&
        sameSession(displaced.connectedAt, reported.connectedAt)
      ) {
        current.claim.displaced = null;
      }
      this.forgetEcho(reported.commonName, switchId);
      return []; // Already retired (roamed) or never known.
    }
    current.bytesIn = Math.max(current.bytesIn, reported.bytesIn);
    current.bytesOut = Math.max(current.bytesOut, reported.bytesOut);
    if (current.claim && fromStatus) return this.withdraw(current, "its own status 3 no longer lists it", at);
    this.byHost.delete(current.commonName);
    const changes: SessionChange[] = [{ kind: "ended", session: current, at, reason: "disconnect" }];
    if (current.claim) changes.push(...this.putBack(current.claim.displaced));
    return changes;
  }

  /**
   * Everything the switch has now: its live sessions missing from the list are over, its claims
   * the list backs are confirmed and those it does not are withdrawn. Claims this very list
   * makes wait for the next one.
   */
  snapshot(switchId: string, reported: readonly (Reported & { hostId: string })[], at: number): SessionChange[] {
    const changes: SessionChange[] = [];
    const listed = new Map(reported.map((r) => [r.commonName, r]));
    for (const session of this.all()) {
      if (session.switchId !== switchId) continue;
      const entry = listed.get(session.commonName);
      const backed = entry !== undefined && sameSession(entry.connectedAt, session.connectedAt);
      if (session.claim) {
        if (backed) {
          changes.push({ kind: "confirmed", session, displaced: session.claim.displaced });
          this.watchEcho(session, session.claim.displaced);
          delete session.claim;
        } else {
          changes.push(...this.withdraw(session, "its status 3 snapshot does not list it", at));
        }
        continue;
      }
      if (entry !== undefined) continue;
      this.byHost.delete(session.commonName);
      changes.push({ kind: "ended", session, at, reason: "gone" });
    }
    for (const [commonName, echo] of [...this.echoes]) {
      if (echo.switchId !== switchId) continue;
      this.echoes.delete(commonName);
      const entry = listed.get(commonName);
      const holder = this.byHost.get(commonName);
      if (!entry || !sameSession(entry.connectedAt, echo.connectedAt) || holder?.switchId !== echo.claimedBy) continue;
      changes.push({
        kind: "conflict",
        conflict: {
          kind: "double",
          commonName,
          hostId: holder.hostId,
          claimedBy: echo.claimedBy,
          heldBy: holder.switchId,
          reason: `still listed by switch ${switchId} (connected since ${new Date(echo.connectedAt).toISOString()}) after switch ${echo.claimedBy} took it over`,
        },
      });
    }
    for (const r of reported) changes.push(...this.connect(switchId, r.hostId, r, at));
    return changes;
  }

  /**
   * What another API instance decided and wrote (its agents' reports), applied to this copy:
   * ends first, by session id (a withdrawn claim's end and the put-back start come in one batch),
   * then updates, then starts, where the newest session still wins. `mirrored` are its changes
   * (already in the table); `retired` are this copy's own sessions a newer one displaced, which
   * nobody has ended yet (two instances decided at once): those are for this instance to write.
   */
  mirror(batch: WireBatch, at: number): { mirrored: SessionChange[]; retired: SessionChange[] } {
    const mirrored: SessionChange[] = [];
    const retired: SessionChange[] = [];
    for (const end of batch.ended) {
      const current = this.byHost.get(end.commonName);
      if (current?.claim?.displaced?.id === end.id) current.claim.displaced = null;
      if (current?.id !== end.id) continue;
      this.byHost.delete(end.commonName);
      mirrored.push({ kind: "ended", session: current, at: end.at, reason: end.reason });
    }
    for (const update of batch.updated) {
      const current = this.byHost.get(update.commonName);
      if (current?.id !== update.id) continue;
      current.realAddress = update.realAddress;
      current.clientId = update.clientId;
      current.bytesIn = Math.max(current.bytesIn, update.bytesIn);
      current.bytesOut = Math.max(current.bytesOut, update.bytesOut);
      if (!update.claimed) delete current.claim;
      mirrored.push({ kind: "updated", session: current });
    }
    for (const wire of batch.started) {
      const current = this.byHost.get(wire.commonName);
      if (current?.id === wire.id || (current && !newer(wire, current))) continue;
      if (current) {
        const reason = current.switchId === wire.switchId ? "disconnect" : "roamed";
        retired.push({ kind: "ended", session: current, at, reason });
      }
      const session = fromWire(wire);
      this.byHost.set(session.commonName, session);
      mirrored.push({ kind: "started", session });
    }
    return { mirrored, retired };
  }

  /** A claim whose switch did not answer for it in time is withdrawn, like one its snapshot denies. */
  expire(commonName: string, sessionId: string, reason: string, at: number): SessionChange[] {
    const current = this.byHost.get(commonName);
    if (!current || current.id !== sessionId || !current.claim) return [];
    return this.withdraw(current, reason, at);
  }

  /** Whether the switch has claims waiting for its snapshot. */
  hasClaims(switchId: string): boolean {
    return this.all().some((s) => s.switchId === switchId && s.claim !== undefined);
  }

  /**
   * The switch is no longer believed (its credential was revoked, it was disabled): all its
   * sessions end at once, its claims go back to whoever held the host before, and nothing is put
   * back onto it.
   */
  endSwitch(switchId: string, reason: "revoked" | "disabled", at: number): SessionChange[] {
    const changes: SessionChange[] = [];
    for (const session of this.all()) {
      if (session.switchId === switchId) {
        this.byHost.delete(session.commonName);
        changes.push({ kind: "ended", session, at, reason });
        if (session.claim) changes.push(...this.putBack(session.claim.displaced));
      } else if (session.claim?.displaced?.switchId === switchId) {
        session.claim.displaced = null;
      }
    }
    for (const [commonName, echo] of [...this.echoes]) {
      if (echo.switchId === switchId || echo.claimedBy === switchId) this.echoes.delete(commonName);
    }
    return changes;
  }

  /** An admin ended the host's session record: whichever switch holds or claims it, nothing is put back. */
  clear(commonName: string, at: number): SessionChange[] {
    const current = this.byHost.get(commonName);
    this.echoes.delete(commonName);
    if (!current) return [];
    this.byHost.delete(commonName);
    return [{ kind: "ended", session: current, at, reason: "cleared" }];
  }

  private withdraw(session: LiveSession, why: string, at: number): SessionChange[] {
    this.byHost.delete(session.commonName);
    const displaced = session.claim?.displaced ?? null;
    const changes: SessionChange[] = [{ kind: "ended", session, at, reason: "withdrawn" }];
    changes.push(...this.putBack(displaced));
    const holder = this.byHost.get(session.commonName);
    changes.push({
      kind: "conflict",
      conflict: {
        kind: "withdrawn",
        commonName: session.commonName,
        hostId: session.hostId,
        claimedBy: session.switchId,
        heldBy: holder?.switchId ?? null,
        reason: `switch ${session.switchId} claimed it, but ${why}`,
      },
    });
    return changes;
  }

  /** The session a withdrawn claim took the host from comes back, as a new record (the old one ended "roamed"). */
  private putBack(displaced: LiveSession | null): SessionChange[] {
    if (!displaced || this.byHost.has(displaced.commonName)) return [];
    const { claim: _claim, ...rest } = displaced;
    const session: LiveSession = { ...rest, id: this.newId() };
    this.byHost.set(session.commonName, session);
    return [{ kind: "started", session }];
  }

  private watchEcho(session: LiveSession, displaced: LiveSession | null): void {
    if (!displaced) return;
    this.echoes.set(session.commonName, {
      switchId: displaced.switchId,
      connectedAt: displaced.connectedAt,
      claimedBy: session.switchId,
    });
  }

  private forgetEcho(commonName: string, switchId: string): void {
    if (this.echoes.get(commonName)?.switchId === switchId) this.echoes.delete(commonName);
  }
}
