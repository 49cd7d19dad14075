import { describe, expect, it } from "vitest";
import {
  broadcastAddress,
  cidrContains,
  cidrsOverlap,
  cidrWithin,
  formatCidr,
  formatIpv4,
  hostRange,
  type Ipv4Cidr,
  isHostAddress,
  isNetworkCidr,
  netmask,
  networkAddress,
  parseCidr,
  parseIpv4,
} from "../../src/net/index.ts";

function cidr(text: string): Ipv4Cidr {
  const parsed = parseCidr(text);
  if (parsed === undefined) throw new Error(`fixture ${text} does not parse`);
  return parsed;
}

function ip(text: string): number {
  const parsed = parseIpv4(text);
  if (parsed === undefined) throw new Error(`fixture ${text} does not parse`);
  return parsed;
}

describe("parseCidr", () => {
  it("keeps the address as written and the prefix", () => {
    expect(parseCidr("10.100.100.7/24")).toEqual({ address: ip("10.100.100.7"), prefix: 24 });
    expect(formatCidr(cidr("10.64.0.0/22"))).toBe("10.64.0.0/22");
  });

  it.each([
    "10.0.0.0",
    "10.0.0.0/",
    "10.0.0.0/33",
    "10.0.0.0/024",
    "10.0.0.0/-1",
    "10.0.0/8",
    "10.0.0.0/8\n",
    "10.0.0.0 /8",
  ])("refuses %j", (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });
});

describe("network arithmetic", () => {
  it.each([
    ["10.100.100.7/24", "10.100.100.0", "10.100.100.255", "255.255.255.0"],
    ["10.64.2.9/22", "10.64.0.0", "10.64.3.255", "255.255.252.0"],
    ["172.31.255.0/28", "172.31.255.0", "172.31.255.15", "255.255.255.240"],
    ["10.0.0.0/16", "10.0.0.0", "10.0.255.255", "255.255.0.0"],
    ["192.0.2.9/32", "192.0.2.9", "192.0.2.9", "255.255.255.255"],
    ["0.0.0.0/0", "0.0.0.0", "255.255.255.255", "0.0.0.0"],
  ])("%s spans %s to %s with mask %s", (text, network, broadcast, mask) => {
    const c = cidr(text);
    expect(formatIpv4(networkAddress(c))).toBe(network);
    expect(formatIpv4(broadcastAddress(c))).toBe(broadcast);
    expect(netmask(c.prefix)).toBe(mask);
  });

  it("gives every prefix length its dotted mask", () => {
    for (let prefix = 0; prefix <= 32; prefix++) {
      const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      expect(netmask(prefix), `/${prefix}`).toBe(formatIpv4(bits));
    }
    expect(() => netmask(33)).toThrow(RangeError);
  });

  it("tells network CIDRs from addresses with host bits", () => {
    expect(isNetworkCidr(cidr("10.64.0.0/22"))).toBe(true);
    expect(isNetworkCidr(cidr("10.64.1.0/22"))).toBe(false);
  });

  it("contains exactly the addresses from network to broadcast", () => {
    const c = cidr("10.100.100.0/24");
    expect(cidrContains(c, ip("10.100.100.0"))).toBe(true);
    expect(cidrContains(c, ip("10.100.100.255"))).toBe(true);
    expect(cidrContains(c, ip("10.100.101.0"))).toBe(false);
    expect(cidrContains(c, ip("10.100.99.255"))).toBe(false);
  });

  it("detects overlap and containment in both directions", () => {
    expect(cidrsOverlap(cidr("10.0.0.0/8"), cidr("10.1.2.0/24"))).toBe(true);
    expect(cidrsOverlap(cidr("10.1.2.0/24"), cidr("10.0.0.0/8"))).toBe(true);
    expect(cidrsOverlap(cidr("10.1.2.0/24"), cidr("10.1.3.0/24"))).toBe(false);
    expect(cidrWithin(cidr("10.1.2.128/25"), cidr("10.1.2.0/24"))).toBe(true);
    expect(cidrWithin(cidr("10.1.2.0/24"), cidr("10.1.2.0/24"))).toBe(true);
    expect(cidrWithin(cidr("10.1.2.0/24"), cidr("10.1.2.128/25"))).toBe(false);
  });

  it("leaves network and broadcast addresses out of the host range", () => {
    const c = cidr("10.100.100.0/24");
    expect(hostRange(c)).toEqual({ first: ip("10.100.100.1"), last: ip("10.100.100.254") });
    expect(hostRange(cidr("10.0.0.0/30"))).toEqual({ first: ip("10.0.0.1"), last: ip("10.0.0.2") });
    expect(hostRange(cidr("10.0.0.0/31"))).toBeUndefined();
    expect(isHostAddress(c, ip("10.100.100.0"))).toBe(false);
    expect(isHostAddress(c, ip("10.100.100.255"))).toBe(false);
    expect(isHostAddress(c, ip("10.100.100.1"))).toBe(true);
    expect(isHostAddress(cidr("10.0.0.5/32"), ip("10.0.0.5"))).toBe(false);
  });
});
