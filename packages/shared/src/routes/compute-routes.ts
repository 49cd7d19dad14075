import type { Route } from "../agent-protocol/common.ts";
import { formatCidr, type Ipv4Cidr } from "../net/cidr.ts";
import { formatIpv4 } from "../net/ipv4.ts";
import { type CheckedSwitch, checkHost, checkNetwork, checkSwitchSet } from "../render/checks.ts";
import { backboneDevice, serverDeviceName } from "../render/naming.ts";
import { newestSessions } from "./newest-session.ts";
import type { RouteSnapshot, RouteTable } from "./snapshot.ts";

/**
 * Each switch's route set, a pure function of a snapshot (DESIGN.md, "Flow" step 5).
 *
 * A switch knows only its own clients: a packet for any other address of the shared data subnet
 * goes into its tun device and is dropped. So every enabled switch S gets
 *   - a /32 for every other enabled switch's data address, via that switch's backbone address on
 *     S's link device toward it;
 *   - a /32 for every host connected to ANOTHER enabled switch P, via P's backbone address;
 *   - for each subnet behind such a host, the same route with the subnet's prefix;
 *   - for each subnet behind a host connected to S itself, a route into S's server tun device
 *     via the host's address (server-config.ts explains why these are not `route` lines);
 *   - NO /32 for its own hosts: a stale one black-holes a host that just roamed in.
 * Hosts that are not connected, disabled, or only connected to a disabled or unknown switch get
 * no route anywhere. Disabled switches get an empty set (their links are not rendered).
 *
 * Work is shared between switches: each destination is resolved once, then every switch takes
 * the global sorted list minus its own entries, so 50 switches x 50,000 hosts stays cheap.
 */

interface Entry {
  readonly key: number;
  /** The switch behind which the destination lies. */
  readonly owner: string;
  /** Route on every other switch (over the backbone toward `owner`). */
  readonly remote: Route;
  /** Route on `owner` itself; undefined for a /32 (owner delivers it through its tun already). */
  readonly local: Route | undefined;
}

function sortKey(cidr: Ipv4Cidr): number {
  return cidr.address * 64 + cidr.prefix;
}

export function computeRoutes(snapshot: RouteSnapshot): RouteTable {
  const net = checkNetwork(snapshot.network, "network");
  const switches = checkSwitchSet(net, snapshot.switches, "switches");
  const enabled = new Map<string, CheckedSwitch>(switches.filter((sw) => sw.enabled).map((sw) => [sw.id, sw]));
  const serverDev = serverDeviceName(snapshot.network);
  const hosts = snapshot.hosts.map((host, i) => checkHost(net, { ...host, pushRoutes: [] }, switches, `hosts[${i}]`));
  const hostByName = new Map(hosts.filter((host) => host.enabled).map((host) => [host.commonName, host]));
  const placement = newestSessions(
    snapshot.sessions,
    (session) => hostByName.has(session.commonName) && enabled.has(session.switchId),
  );

  // Device names per peer, computed once.
  const toward = new Map(
    [...enabled.values()].map((sw) => [
      sw.id,
      { via: formatIpv4(sw.backbone), dev: backboneDevice(snapshot.network, sw) },
    ]),
  );
  const entries: Entry[] = [];
  const taken = new Set<number>();
  const add = (cidr: Ipv4Cidr, owner: string, local: Route | undefined) => {
    const key = sortKey(cidr);
    // Two hosts claiming the same subnet is a data error the API should refuse; here the first
    // (hosts are visited in common-name order) keeps it so the result is still deterministic.
    if (taken.has(key)) return;
    taken.add(key);
    const peer = toward.get(owner);
    if (peer === undefined) return;
    entries.push({ key, owner, remote: { destination: formatCidr(cidr), ...peer }, local });
  };

  for (const sw of enabled.values()) add({ address: sw.data, prefix: 32 }, sw.id, undefined);
  const placed = [...placement].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [commonName, switchId] of placed) {
    const host = hostByName.get(commonName);
    if (host === undefined) continue;
    add({ address: host.address, prefix: 32 }, switchId, undefined);
    const hostAddress = formatIpv4(host.address);
    for (const subnet of host.subnets) {
      add(subnet, switchId, { destination: formatCidr(subnet), via: hostAddress, dev: serverDev });
    }
  }
  entries.sort((a, b) => a.key - b.key);

  const table = new Map<string, Route[]>();
  for (const sw of switches) {
    const routes: Route[] = [];
    if (sw.enabled) {
      for (const entry of entries) {
        if (entry.owner !== sw.id) routes.push(entry.remote);
        else if (entry.local !== undefined) routes.push(entry.local);
      }
    }
    table.set(sw.id, routes);
  }
  return table;
}
