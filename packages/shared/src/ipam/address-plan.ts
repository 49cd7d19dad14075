import { contains, intToIp, ipToInt, type Subnet4 } from "./ipv4.ts";

/** The addresses of one network that are taken, as IPAM sees them. */
export interface AddressPlanInput {
  subnet: Subnet4;
  switches: ReadonlyArray<{ id: string; dataAddress: string; poolStart: string | null; poolEnd: string | null }>;
  hosts: ReadonlyArray<{ id: string; address: string }>;
}

/**
 * Why an address or pool cannot be used. `taken` means it clashes with something that exists
 * (an API answers 409); otherwise the value itself breaks a rule of the network (400).
 */
export interface Unavailable {
  rule: string;
  taken: boolean;
}

export interface AddressPlan {
  /** Why `address` cannot be given to a host (or a switch), or null when it is free. */
  whyUnavailable(address: string, options?: { ignoreHostId?: string; ignoreSwitchId?: string }): Unavailable | null;
  /** The lowest free static address, or null when the static range is full. */
  firstFree(): string | null;
  /** Marks an address as taken by a host (an import places its rows one after another). */
  addHost(id: string, address: string): void;
  /** Why this pool slice cannot be used, or null when it fits. */
  whyPoolUnavailable(start: string, end: string, ignoreSwitchId?: string): Unavailable | null;
}

/**
 * The ranges [first, last] of a subnet that hosts may take: every usable address except switch
 * data addresses and pool slices, in ascending order.
 */
export function freeRanges(subnet: Subnet4, switches: AddressPlanInput["switches"]): [number, number][] {
  const blocked = switches
    .flatMap((s) => [
      [ipToInt(s.dataAddress), ipToInt(s.dataAddress)] as [number, number],
      ...(s.poolStart && s.poolEnd ? [[ipToInt(s.poolStart), ipToInt(s.poolEnd)] as [number, number]] : []),
    ])
    .sort((a, b) => a[0] - b[0]);
  const usable: [number, number] =
    subnet.prefix >= 31 ? [subnet.network, subnet.broadcast] : [subnet.network + 1, subnet.broadcast - 1];
  const ranges: [number, number][] = [];
  let from = usable[0];
  for (const [start, end] of blocked) {
    if (start > from) ranges.push([from, Math.min(start - 1, usable[1])]);
    from = Math.max(from, end + 1);
    if (from > usable[1]) break;
  }
  if (from <= usable[1]) ranges.push([from, usable[1]]);
  return ranges.filter(([a, b]) => a <= b);
}

/**
 * Address rules of one network: hosts and switches get addresses inside the data subnet, never
 * the network or broadcast address, never an address inside any switch's dynamic pool slice
 * (OpenVPN would hand it to a dynamic client), never one already taken.
 */
export function addressPlan(input: AddressPlanInput): AddressPlan {
  const { subnet } = input;
  const pools = input.switches
    .filter((s) => s.poolStart && s.poolEnd)
    .map((s) => ({
      id: s.id,
      name: s.dataAddress,
      start: ipToInt(s.poolStart as string),
      end: ipToInt(s.poolEnd as string),
    }));
  const switchAt = new Map(input.switches.map((s) => [ipToInt(s.dataAddress), s.id]));
  const hostAt = new Map(input.hosts.map((h) => [ipToInt(h.address), h.id]));
  const ranges = freeRanges(subnet, input.switches);
  // Addresses are only ever added to a plan, so each search resumes where the last one ended.
  let rangeIndex = 0;
  let cursor = ranges[0]?.[0] ?? 0;

  const invalid = (rule: string): Unavailable => ({ rule, taken: false });
  const taken = (rule: string): Unavailable => ({ rule, taken: true });

  function whyReserved(value: number): Unavailable | null {
    if (!contains(subnet, value)) return invalid(`is outside the data subnet ${subnet.cidr}`);
    if (subnet.prefix < 31 && value === subnet.network) return invalid(`is the network address of ${subnet.cidr}`);
    if (subnet.prefix < 31 && value === subnet.broadcast) return invalid(`is the broadcast address of ${subnet.cidr}`);
    return null;
  }

  return {
    whyUnavailable(address, options = {}) {
      const value = ipToInt(address);
      const reserved = whyReserved(value);
      if (reserved) return reserved;
      const switchId = switchAt.get(value);
      if (switchId !== undefined && switchId !== options.ignoreSwitchId) return taken("is a switch's data address");
      const pool = pools.find((p) => p.id !== options.ignoreSwitchId && value >= p.start && value <= p.end);
      if (pool) return taken(`is inside the dynamic pool of the switch at ${pool.name}`);
      const hostId = hostAt.get(value);
      if (hostId !== undefined && hostId !== options.ignoreHostId) return taken("is already used by another host");
      return null;
    },
    addHost(id, address) {
      hostAt.set(ipToInt(address), id);
    },
    firstFree() {
      for (; rangeIndex < ranges.length; rangeIndex++) {
        const [from, to] = ranges[rangeIndex] as [number, number];
        for (cursor = Math.max(cursor, from); cursor <= to; cursor++) {
          if (!hostAt.has(cursor)) return intToIp(cursor);
        }
      }
      return null;
    },
    whyPoolUnavailable(start, end, ignoreSwitchId) {
      const from = ipToInt(start);
      const to = ipToInt(end);
      if (from > to) return invalid("must not start after its end");
      const reserved = whyReserved(from) ?? whyReserved(to);
      if (reserved) return reserved;
      const other = pools.find((p) => p.id !== ignoreSwitchId && from <= p.end && p.start <= to);
      if (other) return taken(`overlaps the dynamic pool of the switch at ${other.name}`);
      for (const [value, id] of switchAt) {
        if (id !== ignoreSwitchId && value >= from && value <= to)
          return taken(`contains the switch address ${intToIp(value)}`);
      }
      for (const [value] of hostAt) {
        if (value >= from && value <= to) return taken(`contains the host address ${intToIp(value)}`);
      }
      return null;
    },
  };
}
