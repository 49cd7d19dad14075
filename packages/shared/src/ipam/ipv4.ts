import { broadcastAddress, formatIpv4, networkAddress, parseCidr, parseIpv4 } from "../net/index.ts";

/** An IPv4 subnet with its bounds precomputed: IPAM compares thousands of addresses against it. */
export interface Subnet4 {
  cidr: string;
  prefix: number;
  /** Network address (all host bits zero). */
  network: number;
  /** Broadcast address (all host bits one). */
  broadcast: number;
}

/** For values already validated by a schema; throws on anything else. */
export function ipToInt(value: string): number {
  const parsed = parseIpv4(value);
  if (parsed === undefined) throw new RangeError(`not an IPv4 address: ${value}`);
  return parsed;
}

export const intToIp = formatIpv4;

/**
 * Parses "a.b.c.d/n". Returns a reason string instead of throwing, because callers turn it into a
 * 400 that names their own field. `a.b.c.d` must be the network address itself.
 */
export function parseSubnet(cidr: string): Subnet4 | string {
  const parsed = parseCidr(cidr);
  if (!parsed) return "must be an IPv4 subnet in CIDR form, e.g. 10.100.100.0/24";
  const network = networkAddress(parsed);
  if (network !== parsed.address) {
    return `must start at its network address (${formatIpv4(network)}/${parsed.prefix}), not ${formatIpv4(parsed.address)}`;
  }
  return { cidr, prefix: parsed.prefix, network, broadcast: broadcastAddress(parsed) };
}

export function contains(subnet: Subnet4, address: number): boolean {
  return address >= subnet.network && address <= subnet.broadcast;
}

export function overlaps(a: Subnet4, b: Subnet4): boolean {
  return a.network <= b.broadcast && b.network <= a.broadcast;
}
