import { Address4 } from "ip-address";
import { formatIpv4, parseIpv4 } from "./ipv4.ts";

/** An IPv4 prefix as written: `address` may have host bits set until `isNetworkCidr` says otherwise. */
export interface Ipv4Cidr {
  readonly address: number;
  readonly prefix: number;
}

/** "a.b.c.d/n" with a strict address and a decimal prefix 0..32 (no leading zeros). */
export function parseCidr(text: string): Ipv4Cidr | undefined {
  if (typeof text !== "string") return undefined;
  const match = /^([^/]+)\/(0|[1-9][0-9]?)$/.exec(text);
  if (!match?.[1] || !match[2]) return undefined;
  const address = parseIpv4(match[1]);
  const prefix = Number(match[2]);
  if (address === undefined || prefix > 32) return undefined;
  return { address, prefix };
}

function toAddress4(cidr: Ipv4Cidr): Address4 {
  return new Address4(`${formatIpv4(cidr.address)}/${cidr.prefix}`);
}

export function networkAddress(cidr: Ipv4Cidr): number {
  return Number(toAddress4(cidr).startAddress().bigInt());
}

export function broadcastAddress(cidr: Ipv4Cidr): number {
  return Number(toAddress4(cidr).endAddress().bigInt());
}

/** True when the address is the network address, i.e. no host bits are set ("10.0.0.0/24", not "10.0.0.5/24"). */
export function isNetworkCidr(cidr: Ipv4Cidr): boolean {
  return networkAddress(cidr) === cidr.address;
}

/** Dotted netmask for a prefix length, the form OpenVPN directives take ("255.255.255.0"). */
export function netmask(prefix: number): string {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new RangeError(`not a prefix length: ${prefix}`);
  return new Address4(`0.0.0.0/${prefix}`).subnetMaskAddress().correctForm();
}

export function formatCidr(cidr: Ipv4Cidr): string {
  return `${formatIpv4(cidr.address)}/${cidr.prefix}`;
}

export function cidrContains(cidr: Ipv4Cidr, address: number): boolean {
  return address >= networkAddress(cidr) && address <= broadcastAddress(cidr);
}

/** Two prefixes overlap exactly when one contains the other's network address. */
export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return cidrContains(a, networkAddress(b)) || cidrContains(b, networkAddress(a));
}

/** `inner` lies entirely inside `outer` (equal prefixes count). */
export function cidrWithin(inner: Ipv4Cidr, outer: Ipv4Cidr): boolean {
  return inner.prefix >= outer.prefix && cidrContains(outer, networkAddress(inner));
}

/**
 * Usable host addresses: the network and broadcast addresses are excluded. Undefined for /31 and
 * /32, which have no such range in the sense a shared tun subnet needs.
 */
export function hostRange(cidr: Ipv4Cidr): { readonly first: number; readonly last: number } | undefined {
  if (cidr.prefix > 30) return undefined;
  return { first: networkAddress(cidr) + 1, last: broadcastAddress(cidr) - 1 };
}

/** True when the address is a usable host address of the prefix. */
export function isHostAddress(cidr: Ipv4Cidr, address: number): boolean {
  const range = hostRange(cidr);
  return range !== undefined && address >= range.first && address <= range.last;
}
