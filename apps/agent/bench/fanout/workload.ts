import type { Shares } from "./config.ts";
import type { EventKind } from "./route-watch.ts";

/**
 * Which host does what, and where: the storm's event mix over hosts that are connected or not.
 * A host rests `restMs` after each event, so a roam's connect is always in a newer second than
 * the session it replaces (the API orders sessions by their connect second) and an event is never
 * overtaken by the same host's next one while it is in flight.
 */
export interface PlannedEvent {
  readonly id: number;
  readonly kind: EventKind;
  readonly host: number;
  /** Where it connects (connect, roam) or disconnects (disconnect). */
  readonly switchIndex: number;
  /** A roam's old switch, which sees the old session end right after. */
  readonly fromSwitch: number | null;
  /** Seconds since the epoch: the new session's (connect, roam) or the ended one's (disconnect). */
  readonly connectedAt: number;
  /** The ended session's connect second (roam: the old session at fromSwitch). */
  readonly endedConnectedAt: number | null;
  readonly clientId: number;
}

interface HostState {
  switchIndex: number | null;
  connectedAt: number;
  restUntil: number;
}

/** An unordered pool with O(1) add, random take and removal. */
class Pool {
  private readonly items: number[] = [];
  private readonly at = new Map<number, number>();
  get size(): number {
    return this.items.length;
  }
  add(item: number): void {
    this.at.set(item, this.items.length);
    this.items.push(item);
  }
  take(random: () => number): number | undefined {
    if (this.items.length === 0) return undefined;
    const item = this.items[Math.floor(random() * this.items.length)] as number;
    this.remove(item);
    return item;
  }
  private remove(item: number): void {
    const i = this.at.get(item);
    if (i === undefined) return;
    const last = this.items.pop() as number;
    if (last !== item) {
      this.items[i] = last;
      this.at.set(last, i);
    }
    this.at.delete(item);
  }
}

export class Workload {
  private readonly hosts: HostState[];
  private readonly idle = new Pool();
  private readonly connected = new Pool();
  /** Hosts resting, in the order they become available again. */
  private readonly resting: number[] = [];
  private restingHead = 0;
  private nextId = 1;
  private nextClientId = 1;
  readonly counts: Record<EventKind, number> = { connect: 0, roam: 0, disconnect: 0 };

  constructor(
    hostCount: number,
    private readonly switchCount: number,
    private readonly restMs: number,
    private readonly random: () => number = Math.random,
  ) {
    this.hosts = Array.from({ length: hostCount }, () => ({ switchIndex: null, connectedAt: 0, restUntil: 0 }));
    for (let i = 0; i < hostCount; i++) this.idle.add(i);
  }

  get connectedCount(): number {
    return this.hosts.filter((h) => h.switchIndex !== null).length;
  }

  /** The next event of the mix at `nowMs`, or undefined when no host is free for any kind. */
  next(nowMs: number, shares: Shares): PlannedEvent | undefined {
    this.wake(nowMs);
    const draw = this.random();
    let kind: EventKind =
      draw < shares.connect ? "connect" : draw < shares.connect + shares.roam ? "roam" : "disconnect";
    // Fall back to what the pools allow: nothing idle to connect, or nothing connected to move.
    if (kind === "connect" && this.idle.size === 0) kind = "roam";
    if (kind !== "connect" && this.connected.size === 0) kind = "connect";
    if (kind === "roam" && this.switchCount < 2) kind = "disconnect";
    const host = (kind === "connect" ? this.idle : this.connected).take(this.random);
    if (host === undefined) return undefined;
    const state = this.hosts[host] as HostState;
    const second = Math.floor(nowMs / 1000);
    const clientId = this.nextClientId++;
    let event: PlannedEvent;
    if (kind === "disconnect") {
      event = {
        id: this.nextId++,
        kind,
        host,
        switchIndex: state.switchIndex as number,
        fromSwitch: null,
        connectedAt: state.connectedAt,
        endedConnectedAt: state.connectedAt,
        clientId,
      };
      state.switchIndex = null;
    } else {
      const from = state.switchIndex;
      let to = Math.floor(this.random() * this.switchCount);
      if (from !== null && to === from)
        to = (to + 1 + Math.floor(this.random() * (this.switchCount - 1))) % this.switchCount;
      event = {
        id: this.nextId++,
        kind,
        host,
        switchIndex: to,
        fromSwitch: from,
        connectedAt: second,
        endedConnectedAt: from === null ? null : state.connectedAt,
        clientId,
      };
      state.switchIndex = to;
      state.connectedAt = second;
    }
    this.counts[kind] += 1;
    state.restUntil = nowMs + this.restMs;
    this.resting.push(host);
    return event;
  }

  /** Rested hosts go back to the pool of what they are now. */
  private wake(nowMs: number): void {
    while (this.restingHead < this.resting.length) {
      const host = this.resting[this.restingHead] as number;
      const state = this.hosts[host] as HostState;
      if (state.restUntil > nowMs) break;
      this.restingHead += 1;
      (state.switchIndex === null ? this.idle : this.connected).add(host);
    }
    if (this.restingHead > 100_000) {
      this.resting.splice(0, this.restingHead);
      this.restingHead = 0;
    }
  }
}

/** The line OpenVPN's client hook (hook-script.ts) writes for a connect or disconnect. */
export function hookLine(
  kind: "client-connect" | "client-disconnect",
  commonName: string,
  connectedAt: number,
  clientId: number,
  virtualAddress: string,
): string {
  const port = String(40_000 + (clientId % 20_000));
  const ended = kind === "client-disconnect";
  return `${[
    "sb1",
    kind,
    String(connectedAt),
    commonName,
    "198.51.100.7",
    port,
    virtualAddress,
    ended ? "1000" : "",
    ended ? "2000" : "",
    ended ? "5" : "",
    "sbs-bench",
  ].join("\t")}\n`;
}
