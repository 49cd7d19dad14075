import { Address6 } from "ip-address";
import { formatCidr, type Ipv4Cidr, isNetworkCidr, networkAddress, parseCidr } from "../net/cidr.ts";
import { formatIpv4, parseIpv4 } from "../net/ipv4.ts";
import { specialUseOf, specialUseOverlap } from "../net/special-use.ts";
import { RenderError } from "./errors.ts";

/**
 * One validator per kind of value a directive takes. Each returns the value in the exact form it
 * will be written, or throws RenderError naming the field and the rule. The character sets are
 * allow-lists: whitespace, quotes, backslashes, `<`/`>`, `#`/`;` and control characters cannot
 * pass any of them, so no input can end a line, open an inline block or start a new directive.
 */

/** Host CNs: 1-64 of letters, digits, `.`, `-`, `_`, starting with a letter or digit. */
export const COMMON_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Switch ids end up in backbone certificate CNs (`backbone.<id>`), which are capped at 64 chars. */
export const SWITCH_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,54}$/;
/** Data-channel ciphers allowed: AEAD only (CBC needs a separate HMAC, is legacy in 2.6 and rules out DCO). */
export const AEAD_CIPHERS = ["AES-256-GCM", "AES-128-GCM", "AES-192-GCM", "CHACHA20-POLY1305"] as const;

const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const HOST_NAME_PATTERN = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const PATH_PATTERN = /^(?:\/[A-Za-z0-9._-]+)+$/;
/** sun_path is 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

function requireString(field: string, value: unknown): string {
  if (typeof value !== "string") throw new RenderError(field, "must be a string");
  return value;
}

export function commonName(field: string, value: unknown): string {
  const text = requireString(field, value);
  if (!COMMON_NAME_PATTERN.test(text)) {
    throw new RenderError(field, "must be 1-64 letters, digits, '.', '-' or '_', starting with a letter or digit");
  }
  // OpenVPN falls back to the file named DEFAULT for CNs without their own client-config file.
  if (text.toUpperCase() === "DEFAULT") throw new RenderError(field, "DEFAULT is reserved by client-config-dir");
  return text;
}

export function switchId(field: string, value: unknown): string {
  const text = requireString(field, value);
  if (!SWITCH_ID_PATTERN.test(text)) {
    throw new RenderError(field, "must be 1-55 letters, digits, '-' or '_', starting with a letter or digit");
  }
  return text;
}

/** Returns the address as a number; the text is then rewritten by formatIpv4 (same canonical form). */
export function ipv4(field: string, value: unknown): number {
  const parsed = parseIpv4(requireString(field, value));
  if (parsed === undefined) throw new RenderError(field, "must be an IPv4 address in dotted-quad form");
  return parsed;
}

export function cidr(field: string, value: unknown, minPrefix = 0, maxPrefix = 32): Ipv4Cidr {
  const parsed = parseCidr(requireString(field, value));
  if (parsed === undefined) throw new RenderError(field, "must be an IPv4 CIDR such as 10.0.0.0/24");
  if (!isNetworkCidr(parsed)) {
    const network = formatCidr({ address: networkAddress(parsed), prefix: parsed.prefix });
    throw new RenderError(field, `must start at its network address (${network}), not ${formatIpv4(parsed.address)}`);
  }
  if (parsed.prefix < minPrefix || parsed.prefix > maxPrefix) {
    throw new RenderError(
      field,
      `must have a prefix length from /${minPrefix} to /${maxPrefix} (got /${parsed.prefix})`,
    );
  }
  return parsed;
}

/**
 * A prefix that may be routed (pushed to hosts, programmed on switches) or used as a VPN subnet:
 * a CIDR that does not overlap loopback, link-local, multicast and the other special-use ranges.
 */
export function routableCidr(field: string, value: unknown, minPrefix = 0, maxPrefix = 32): Ipv4Cidr {
  const parsed = cidr(field, value, minPrefix, maxPrefix);
  const special = specialUseOverlap(parsed);
  if (special) throw new RenderError(field, `must not overlap ${special.name}`);
  return parsed;
}

/** An address hosts send traffic to (a DNS server): not loopback, link-local, multicast... */
export function unicastIpv4(field: string, value: unknown): number {
  const address = ipv4(field, value);
  const special = specialUseOf(address);
  if (special) throw new RenderError(field, `must not lie in ${special.name}`);
  return address;
}

/** Loopback and link-local stay allowed for a `remote`: a switch on the same machine or link (a lab). */
const REACHABLE_SPECIAL_USE: readonly string[] = ["loopback", "link-local"];

/**
 * A `remote` target: a DNS host name, an IPv4 address or an IPv6 literal. A name's last label is
 * never all digits, so "300.1.1.1", "1.2.3" and "0x0a.100.100.5" (read as addresses by resolvers
 * or refused by them) are neither names nor addresses.
 */
/** `remote <host> <port>` must fit a config line (config-check.ts): 254 - "remote " - " 65535". */
export const MAX_REMOTE_HOST = 241;

export function remoteHost(field: string, value: unknown): string {
  const text = requireString(field, value);
  if (/^[0-9A-Fa-f:.]+$/.test(text) && text.includes(":") && Address6.isValid(text)) return text;
  const address = parseIpv4(text);
  if (address !== undefined) {
    const special = specialUseOf(address);
    if (special && !REACHABLE_SPECIAL_USE.includes(special.kind)) {
      throw new RenderError(field, `must be an address clients can connect to, not one in ${special.name}`);
    }
    return text;
  }
  if (text.length > MAX_REMOTE_HOST) {
    throw new RenderError(field, `must be at most ${MAX_REMOTE_HOST} characters (OpenVPN reads config lines of 254)`);
  }
  if (HOST_NAME_PATTERN.test(text)) {
    if (!hasNumericLastLabel(text)) return text;
    throw new RenderError(field, "must be a host name or an IP address: a name's last label is never all digits");
  }
  throw new RenderError(field, "must be a host name (letters, digits, '-', dot-separated labels) or an IP address");
}

/** "10.0.0.300", "vpn.123": what resolvers may read as an address; no top-level domain is numeric. */
function hasNumericLastLabel(name: string): boolean {
  return /^[0-9]+$/.test(name.slice(name.lastIndexOf(".") + 1));
}

/** A domain pushed to hosts; like a host name, its last label is never all digits (no address). */
export function dnsDomain(field: string, value: unknown): string {
  const text = requireString(field, value);
  if (text.length > 253 || !HOST_NAME_PATTERN.test(text)) {
    throw new RenderError(field, "must be a DNS domain (letters, digits, '-', dot-separated labels)");
  }
  if (hasNumericLastLabel(text)) {
    throw new RenderError(field, "must be a DNS domain, not an address: its last label must not be all digits");
  }
  return text;
}

export function integer(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new RenderError(field, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

export function port(field: string, value: unknown): number {
  return integer(field, value, 1, 65535);
}

export function cipherList(field: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) throw new RenderError(field, "must list at least one cipher");
  const seen = new Set<string>();
  value.forEach((item: unknown, index) => {
    const name = requireString(`${field}[${index}]`, item);
    if (!(AEAD_CIPHERS as readonly string[]).includes(name)) {
      throw new RenderError(`${field}[${index}]`, `must be one of the AEAD ciphers ${AEAD_CIPHERS.join(", ")}`);
    }
    if (seen.has(name)) throw new RenderError(`${field}[${index}]`, "must not repeat a cipher");
    seen.add(name);
  });
  return [...seen];
}

/** Absolute, no spaces, quotes or control characters, no `.`/`..` segments (SIGHUP re-reads from `/`). */
export function absolutePath(field: string, value: unknown): string {
  const text = requireString(field, value);
  if (text.length > 1024 || !PATH_PATTERN.test(text) || text.split("/").some((part) => part === "." || part === "..")) {
    throw new RenderError(
      field,
      "must be an absolute path of letters, digits, '.', '-', '_' without '.' or '..' parts",
    );
  }
  return text;
}

export function socketPath(field: string, value: unknown): string {
  const text = absolutePath(field, value);
  if (new TextEncoder().encode(text).length > MAX_SOCKET_PATH) {
    throw new RenderError(field, `unix socket paths are limited to ${MAX_SOCKET_PATH} bytes`);
  }
  return text;
}

export function list<T>(field: string, value: unknown, each: (field: string, item: unknown) => T): T[] {
  if (!Array.isArray(value)) throw new RenderError(field, "must be a list");
  return value.map((item: unknown, index) => each(`${field}[${index}]`, item));
}
