/**
 * The agent marks every route it programs with this routing protocol number and only ever lists,
 * replaces or deletes routes carrying it, so routes from the admin, DHCP, FRR (186-192) or the
 * kernel are never touched. 180 is unassigned in iproute2's rt_protos and outside the ranges
 * routing daemons use. Installing RT_PROTOS_ENTRY under /etc/iproute2/rt_protos.d/ makes
 * `ip route` print the name; the agent itself always uses the number.
 */
export const ROUTE_PROTOCOL = 180;
export const ROUTE_PROTOCOL_NAME = "switchboard";
export const RT_PROTOS_FILE = "/etc/iproute2/rt_protos.d/switchboard.conf";
export const RT_PROTOS_ENTRY = `${ROUTE_PROTOCOL}\t${ROUTE_PROTOCOL_NAME}\n`;

/** `ip -json` prints the number, or the name once rt_protos knows it. */
export function isOwnProtocol(protocol: unknown): boolean {
  return protocol === String(ROUTE_PROTOCOL) || protocol === ROUTE_PROTOCOL || protocol === ROUTE_PROTOCOL_NAME;
}
