import { type DesiredHost, formatCidr, parseCidr, type Route } from "@switchboard/shared";

/**
 * The agent's local rule: a host connected HERE gets no /32 over the backbone, and the subnets
 * behind it go into the server's tun device via its address, at once, without waiting for the
 * API to see the session and send new routes (a stale /32 black-holes a host that just roamed
 * in). The API's next update says the same thing; until then this rule wins.
 *
 * `hosts`: the state's hosts, or an index of them by common name (O(connected here) lookups).
 */
export function withLocalSessions(
  routes: readonly Route[],
  hosts: readonly DesiredHost[] | ReadonlyMap<string, DesiredHost>,
  connectedHere: Iterable<string>,
  serverDevice: string,
): Route[] {
  // The agent passes its host index: building one here cost tens of ms per call at 50,000 hosts.
  const byName =
    hosts instanceof Map ? hosts : new Map((hosts as readonly DesiredHost[]).map((h) => [h.commonName, h]));
  const drop = new Set<string>();
  const local = new Map<string, Route>();
  for (const commonName of connectedHere) {
    const host = byName.get(commonName);
    if (host === undefined || host.clientConfig === null) continue;
    drop.add(`${host.address}/32`);
    for (const subnet of host.subnets) {
      const cidr = parseCidr(subnet);
      if (cidr === undefined) continue;
      const destination = formatCidr(cidr);
      local.set(destination, { destination, via: host.address, dev: serverDevice });
    }
  }
  if (drop.size === 0 && local.size === 0) return [...routes];
  const out: Route[] = [];
  for (const route of routes) {
    if (drop.has(route.destination)) continue;
    const override = local.get(route.destination);
    out.push(override ?? route);
    local.delete(route.destination);
  }
  out.push(...local.values());
  return out;
}
