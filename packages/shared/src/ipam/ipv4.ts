import { Address4 } from "ip-address";

/** An IPv4 subnet as numbers, so address arithmetic stays exact and cheap. */
export interface Subnet4 {
  cidr: string;
  prefix: number;
  /** Network address (all host bits zero). */
  network: number;
  /** Broadcast address (all host bits one). */
  broadcast: number;
}

const DOTTED = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Strict dotted quad: no leading zeros (which some tools read as octal), no mask. */
export function isIpv4(value: string): boolean {
  return DOTTED.test(value);
}

export function ipToInt(value: string): number {
  if (!isIpv4(value)) throw new RangeError(`not an IPv4 address: ${value}`);
  return Number(new Address4(value).bigInt());
}

export function intToIp(value: number): string {
  return Address4.fromBigInt(BigInt(value)).correctForm();
}

/**
 * Parses "a.b.c.d/n". Returns a reason string instead of throwing, because callers turn it into a
 * 400 that names their own field. `a.b.c.d` must be the network address itself.
 */
export function parseSubnet(cidr: string): Subnet4 | string {
  const [ip, prefixText, extra] = cidr.split("/");
  if (extra !== undefined || !ip || !prefixText || !/^\d{1,2}$/.test(prefixText) || !isIpv4(ip)) {
    return "must be an IPv4 subnet in CIDR form, e.g. 10.100.100.0/24";
  }
  const prefix = Number(prefixText);
  if (prefix > 32) return "must have a prefix length from 0 to 32";
  const address = new Address4(cidr);
  const network = Number(address.startAddress().bigInt());
  if (network !== ipToInt(ip)) {
    return `must start at its network address (${intToIp(network)}/${prefix}), not ${ip}`;
  }
  return { cidr, prefix, network, broadcast: Number(address.endAddress().bigInt()) };
}

export function contains(subnet: Subnet4, address: number): boolean {
  return address >= subnet.network && address <= subnet.broadcast;
}

export function overlaps(a: Subnet4, b: Subnet4): boolean {
  return a.network <= b.broadcast && b.network <= a.broadcast;
}

/** Dotted netmask, e.g. 255.255.255.0 for /24, as OpenVPN's ifconfig and route want it. */
export function netmaskOf(prefix: number): string {
  return intToIp(prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);
}
