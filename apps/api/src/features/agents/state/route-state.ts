import {
  backboneDeviceName,
  computeRoutes,
  formatCidr,
  formatIpv4,
  newestSessions,
  parseCidr,
  parseIpv4,
  type Route,
  type RouteSession,
  serverDeviceName,
} from "@switchboard/shared";
import type { NetworkView } from "./network-view.ts";

/** One switch's route changes, as a delta carries them. */
export interface RouteChange {
  readonly upsert: Route[];
  readonly remove: string[];
}

interface Pending {
  readonly upsert: Map<string, Route>;
  readonly remove: Set<string>;
}

/**
 * Every switch's routes of one network, kept up to date in two ways. A full recompute
 * (computeRoutes over the whole snapshot) runs when the network itself changed. When only
 * sessions changed, just the hosts that moved are re-placed: each costs one route per switch,
 * so a storm of session events on a 50-switch, 50,000-host network stays cheap, where a full
 * recompute would rebuild 2.5 million routes per tick. Both follow the same rules; the shortcut
 * is skipped when a destination is claimed twice (a data error computeRoutes settles by order).
 *
 * A host whose record changed (created, edited, disabled, deleted) is re-placed the same way
 * (`patchHost`), against the view the dispatcher patched in place.
 *
 * The maps are also what every connected agent has been sent: each change is sent in the tick
 * that makes it, and a (re)connecting agent gets a snapshot of its map.
 */
export class RouteState {
  private readonly maps = new Map<string, Map<string, Route>>();
  private placement = new Map<string, string>();
  private view: NetworkView | undefined;
  private toward = new Map<string, { via: string; dev: string }>();
  private hosts = new Map<string, RouteHost>();
  private serverDev = "";
  private enabled: string[] = [];
  /** How many times each destination is claimed (switch data addresses, enabled hosts' /32 and subnets). */
  private claims = new Map<string, number>();
  /** Destinations claimed more than once: while there are any, only a full recompute is exact. */
  private duplicates = 0;

  private get incrementalOk(): boolean {
    return this.view !== undefined && this.duplicates === 0;
  }

  routesOf(switchId: string): Route[] {
    return [...(this.maps.get(switchId)?.values() ?? [])];
  }

  /** Recomputes everything from the view and the sessions; returns each switch's change. */
  recompute(view: NetworkView, sessions: readonly RouteSession[]): Map<string, RouteChange> {
    // Always: the view may have been patched in place since it was adopted.
    this.adopt(view);
    const table = computeRoutes({ network: view.network, switches: view.switches, hosts: view.routeHosts, sessions });
    const changes = new Map<string, RouteChange>();
    for (const [switchId, routes] of table) {
      const before = this.maps.get(switchId) ?? new Map<string, Route>();
      const after = new Map(routes.map((route) => [route.destination, route]));
      const upsert = routes.filter((route) => !same(before.get(route.destination), route));
      const remove = [...before.keys()].filter((destination) => !after.has(destination));
      this.maps.set(switchId, after);
      if (upsert.length > 0 || remove.length > 0) changes.set(switchId, { upsert, remove });
    }
    for (const switchId of [...this.maps.keys()]) if (!table.has(switchId)) this.maps.delete(switchId);
    this.placement = newestSessions(sessions, (s) => this.accepts(s.commonName, s.switchId));
    return changes;
  }

  /**
   * Re-places the named hosts after session changes. `where(cn)` is the switch of the host's live
   * session now (undefined: none). Returns undefined when only a full recompute is safe.
   */
  replace(
    view: NetworkView,
    commonNames: Iterable<string>,
    where: (commonName: string) => string | undefined,
  ): Map<string, RouteChange> | undefined {
    if (view !== this.view || !this.incrementalOk) return undefined;
    const pending = new Map<string, Pending>();
    for (const commonName of commonNames) {
      const live = where(commonName);
      const to = live !== undefined && this.accepts(commonName, live) ? live : undefined;
      const from = this.placement.get(commonName);
      if (from === to) continue;
      if (to === undefined) this.placement.delete(commonName);
      else this.placement.set(commonName, to);
      this.move(commonName, from, to, pending);
    }
    return this.commit(pending);
  }

  /** Writes pending route changes into the maps; returns what actually changed per switch. */
  private commit(pending: Map<string, Pending>): Map<string, RouteChange> {
    const changes = new Map<string, RouteChange>();
    for (const [switchId, change] of pending) {
      const map = this.maps.get(switchId) ?? new Map<string, Route>();
      this.maps.set(switchId, map);
      const remove = [...change.remove].filter((destination) => map.delete(destination));
      const upsert = [...change.upsert.values()].filter((route) => {
        if (same(map.get(route.destination), route)) return false;
        map.set(route.destination, route);
        return true;
      });
      if (upsert.length > 0 || remove.length > 0) changes.set(switchId, { upsert, remove });
    }
    return changes;
  }

  /**
   * Re-places one host after its record changed in `view` (already patched): its old routes go,
   * its new ones come if it has a live session it may have. Undefined when only a full recompute
   * is safe (another view, or a destination now claimed twice).
   */
  patchHost(
    view: NetworkView,
    commonName: string,
    where: (commonName: string) => string | undefined,
  ): Map<string, RouteChange> | undefined {
    if (view !== this.view) return undefined;
    const pending = new Map<string, Pending>();
    const from = this.placement.get(commonName);
    if (from !== undefined) this.move(commonName, from, undefined, pending);
    this.placement.delete(commonName);
    const old = this.hosts.get(commonName);
    if (old) for (const key of claimKeys(old)) this.unclaim(key);
    const next = view.hostNamed(commonName)?.route;
    if (next) {
      const host = normalized(next);
      this.hosts.set(commonName, host);
      for (const key of claimKeys(host)) this.claim(key);
    } else this.hosts.delete(commonName);
    if (!this.incrementalOk) return undefined;
    const live = where(commonName);
    const to = live !== undefined && this.accepts(commonName, live) ? live : undefined;
    if (to !== undefined) {
      this.placement.set(commonName, to);
      this.move(commonName, undefined, to, pending);
    }
    return this.commit(pending);
  }

  private claim(key: string): void {
    const count = (this.claims.get(key) ?? 0) + 1;
    this.claims.set(key, count);
    if (count === 2) this.duplicates++;
  }

  private unclaim(key: string): void {
    const count = this.claims.get(key) ?? 0;
    if (count === 2) this.duplicates--;
    if (count <= 1) this.claims.delete(key);
    else this.claims.set(key, count - 1);
  }

  private accepts(commonName: string, switchId: string): boolean {
    return this.hosts.get(commonName)?.enabled === true && this.toward.has(switchId);
  }

  private move(commonName: string, from: string | undefined, to: string | undefined, pending: Map<string, Pending>) {
    const host = this.hosts.get(commonName);
    if (!host) return;
    const own = `${host.address}/32`;
    const remoteRoutes = (owner: string): Route[] => {
      const peer = this.toward.get(owner) as { via: string; dev: string };
      return [own, ...host.subnets].map((destination) => ({ destination, ...peer }));
    };
    const localRoutes: Route[] = host.subnets.map((destination) => ({
      destination,
      via: host.address,
      dev: this.serverDev,
    }));
    const fromRoutes = from === undefined ? undefined : remoteRoutes(from);
    const toRoutes = to === undefined ? undefined : remoteRoutes(to);
    for (const switchId of this.enabled) {
      let change = pending.get(switchId);
      if (!change) {
        change = { upsert: new Map(), remove: new Set() };
        pending.set(switchId, change);
      }
      if (from !== undefined) {
        for (const route of switchId === from ? localRoutes : (fromRoutes as Route[])) {
          change.remove.add(route.destination);
          change.upsert.delete(route.destination);
        }
      }
      if (to !== undefined) {
        for (const route of switchId === to ? localRoutes : (toRoutes as Route[])) {
          change.upsert.set(route.destination, route);
          change.remove.delete(route.destination);
        }
      }
    }
  }

  private adopt(view: NetworkView): void {
    this.view = view;
    this.serverDev = serverDeviceName(view.network);
    this.enabled = view.switches.filter((sw) => sw.enabled).map((sw) => sw.id);
    this.toward = new Map(
      view.switches
        .filter((sw) => sw.enabled)
        .map((sw) => [sw.id, { via: sw.backboneAddress, dev: backboneDeviceName(view.network, sw) }]),
    );
    this.hosts = new Map(view.routeHosts.map((host) => [host.commonName, normalized(host)]));
    // The shortcut is only exact when no destination is claimed twice.
    this.claims = new Map();
    this.duplicates = 0;
    for (const sw of view.switches) if (sw.enabled) this.claim(claimKey(`${sw.dataAddress}/32`));
    for (const host of this.hosts.values()) for (const key of claimKeys(host)) this.claim(key);
  }
}

type RouteHost = NetworkView["routeHosts"][number];

/** Written the way computeRoutes writes destinations, so both paths produce the same keys. */
function normalized(host: RouteHost): RouteHost {
  const cidr = (text: string) => {
    const parsed = parseCidr(text);
    return parsed ? formatCidr(parsed) : text;
  };
  const parsed = parseIpv4(host.address);
  return {
    ...host,
    address: parsed === undefined ? host.address : formatIpv4(parsed),
    subnets: host.subnets.map(cidr),
  };
}

function claimKey(cidr: string): string {
  const parsed = parseCidr(cidr);
  return parsed ? `${parsed.address}/${parsed.prefix}` : cidr;
}

/** The destinations a host claims: none when it is disabled or its address does not parse. */
function claimKeys(host: RouteHost): string[] {
  if (!host.enabled || parseIpv4(host.address) === undefined) return [];
  return [claimKey(`${host.address}/32`), ...host.subnets.map(claimKey)];
}

function same(a: Route | undefined, b: Route): boolean {
  return a !== undefined && a.via === b.via && a.dev === b.dev;
}
