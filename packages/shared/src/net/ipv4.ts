import { Address4 } from "ip-address";

/**
 * IPv4 addresses as unsigned 32-bit numbers: comparisons and ranges stay plain arithmetic, and
 * ip-address does the parsing so we never hand-roll the dotted-quad grammar.
 */

/** Strict dotted quad ("10.0.0.1"): no prefix, no leading zeros, no spaces; undefined otherwise. */
export function parseIpv4(text: string): number | undefined {
  if (typeof text !== "string" || text.includes("/")) return undefined;
  let address: Address4;
  try {
    address = new Address4(text);
  } catch {
    return undefined;
  }
  // ip-address accepts a few spellings; only the canonical one may reach a config file.
  if (address.correctForm() !== text) return undefined;
  return Number(address.bigInt());
}

export function isIpv4(text: string): boolean {
  return parseIpv4(text) !== undefined;
}

export function formatIpv4(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`not an IPv4 address value: ${value}`);
  }
  return Address4.fromInteger(value).correctForm();
}
