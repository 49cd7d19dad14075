import { cidrsOverlap, cidrWithin, type Ipv4Cidr, parseCidr } from "./cidr.ts";

/**
 * IPv4 ranges that are no place for a route, a resolver or a VPN subnet (RFC 6890): traffic for
 * them never leaves the machine (loopback, "this network"), stays on the local link (link-local,
 * which also holds cloud metadata services at 169.254.169.254), or is not unicast at all
 * (multicast, the reserved block, the limited broadcast). A route toward any of them pushed to a
 * host, or programmed on a switch, captures traffic the machine needs for itself.
 */
export type SpecialUseKind = "broadcast" | "this-network" | "loopback" | "link-local" | "multicast" | "reserved";

export interface SpecialUseRange {
  readonly kind: SpecialUseKind;
  readonly cidr: Ipv4Cidr;
  /** How a person calls it, for messages ("the loopback range 127.0.0.0/8"). */
  readonly name: string;
}

const range = (kind: SpecialUseKind, text: string, name: string): SpecialUseRange => ({
  kind,
  cidr: parseCidr(text) as Ipv4Cidr,
  name,
});

/** Most specific first, so 255.255.255.255 is named as the broadcast address, not as reserved. */
export const SPECIAL_USE_RANGES: readonly SpecialUseRange[] = [
  range("broadcast", "255.255.255.255/32", "the limited broadcast address 255.255.255.255"),
  range("this-network", "0.0.0.0/8", 'the "this network" range 0.0.0.0/8'),
  range("loopback", "127.0.0.0/8", "the loopback range 127.0.0.0/8"),
  range("link-local", "169.254.0.0/16", "the link-local range 169.254.0.0/16"),
  range("multicast", "224.0.0.0/4", "the multicast range 224.0.0.0/4"),
  range("reserved", "240.0.0.0/4", "the reserved range 240.0.0.0/4"),
];

/**
 * The special-use range a prefix overlaps (lies in, or covers), or undefined. Covering counts:
 * a pushed 128.0.0.0/1 would send a host's multicast and link-local traffic into the tunnel.
 * A prefix inside a range gets that range's name; one covering several, the widest it covers.
 */
export function specialUseOverlap(cidr: Ipv4Cidr): SpecialUseRange | undefined {
  const overlapping = SPECIAL_USE_RANGES.filter((special) => cidrsOverlap(cidr, special.cidr));
  const around = overlapping.find((special) => cidrWithin(cidr, special.cidr));
  return (
    around ??
    overlapping.reduce<SpecialUseRange | undefined>(
      (widest, special) => (widest === undefined || special.cidr.prefix < widest.cidr.prefix ? special : widest),
      undefined,
    )
  );
}

/** The special-use range an address lies in, or undefined. */
export function specialUseOf(address: number): SpecialUseRange | undefined {
  return specialUseOverlap({ address, prefix: 32 });
}
