import { type DesiredHost, formatCidr, parseCidr, type Route } from "@switchboard/shared";

/**
 * The agent's local rule: a host connected HERE gets no /32 over the backbone, and the subnets
 * behind it go into the server's tun device via its address, at once, without waiting for the
 * API to see the session and send new routes (a stale /32 black-holes a host that just roamed
 * in). The API's next update says the same thing; until then this rule wins.
 */
export function withLocalSessions(
  routes: readonly Route[],
  hosts: readonly DesiredHost[],
  connectedHere: Iterable<string>,
  serverDevice: string,
): Route[] {
  const byName = new Map(hosts.map((host) => [host.commonName, host]));
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
