import { backboneListenPort, type CheckedNetwork, type CheckedSwitch, checkNetwork, checkSwitch } from "./checks.ts";
import { RenderError } from "./errors.ts";
import type { RenderHost, RenderNetwork, RenderSwitch } from "./model.ts";
import * as v from "./validate.ts";

/**
 * Names and numbers the API, the agent and the PKI must agree on. All are pure functions of the
 * model so nothing has to be stored or negotiated.
 *
 * Devices: Linux caps interface names at 15 bytes (IFNAMSIZ - 1), and one machine may serve
 * several networks, so names carry a 5-character hash of the network name instead of the name:
 * `sbs-<tag>` for a network's server, `sbb-<tag>-<peer offset>` for its backbone link to a peer.
 *
 * Backbone links: each switch keeps its one backbone address as the local end of every link
 * (`ifconfig <own> <peer>` on one tun device per peer; Linux accepts the same local address on
 * several point-to-point devices), so "via <peer backbone address>" picks the right link and the
 * route computation needs one address per switch. The peer's offset in the backbone subnet
 * (address minus network address) is unique per network, so it numbers devices and ports:
 * a switch listens for its link to P on `backbonePortBase + offset(P)`.
 */

export type LinkRole = "tls-server" | "tls-client";

/** 32-bit FNV-1a: tiny, stable, and available in browsers too (no node:crypto in shared code). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash;
}

export function networkTag(network: Pick<RenderNetwork, "name">): string {
  if (typeof network.name !== "string" || network.name.length === 0) {
    throw new RenderError("network.name", "must be a non-empty string");
  }
  return (fnv1a(network.name) % 36 ** 5).toString(36).padStart(5, "0");
}

export function serverDeviceName(network: Pick<RenderNetwork, "name">): string {
  return `sbs-${networkTag(network)}`;
}

export function backboneDeviceName(network: RenderNetwork, peer: RenderSwitch): string {
  const net = checkNetwork(network);
  return backboneDevice(network, checkSwitch(net, peer, "peer"));
}

export function backboneDevice(network: Pick<RenderNetwork, "name">, peer: CheckedSwitch): string {
  return `sbb-${networkTag(network)}-${peer.backboneOffset}`;
}

/**
 * CN of a switch's backbone certificate, within the PKI's CN alphabet. A host certificate with
 * the same CN still cannot join a link: both ends demand the serverAuth usage (backbone-config.ts).
 */
export function backboneCommonName(sw: Pick<RenderSwitch, "id">): string {
  return `backbone.${v.switchId("switch.id", sw.id)}`;
}

/** Start of every data server certificate's CN; host profiles accept no other server (profile.ts). */
export const SERVER_NAME_PREFIX = "server.";

/**
 * CN of a switch's data server certificate. Host CNs may look alike, but a host certificate
 * lacks serverAuth; backbone certificates have it, and the prefix keeps them out.
 */
export function serverCommonName(sw: Pick<RenderSwitch, "id">): string {
  return `${SERVER_NAME_PREFIX}${v.switchId("switch.id", sw.id)}`;
}

/** OpenVPN looks the client-config file up by the CN; CNs are validated to be safe file names. */
export function ccdFileName(host: Pick<RenderHost, "commonName">): string {
  return v.commonName("host.commonName", host.commonName);
}

/** The port `local` listens on for its link to `peer`. */
export function linkPort(network: RenderNetwork, local: RenderSwitch, peer: RenderSwitch): number {
  const net = checkNetwork(network);
  return checkedLinkPort(net, checkSwitch(net, local, "local"), checkSwitch(net, peer, "peer"), "peer");
}

export function checkedLinkPort(net: CheckedNetwork, local: CheckedSwitch, peer: CheckedSwitch, field: string): number {
  if (local.id === peer.id || local.backbone === peer.backbone) {
    throw new RenderError(`${field}.backboneAddress`, "a link needs two different switches");
  }
  return backboneListenPort(net, peer, `${field}.backboneAddress`);
}

/** The end with the lower backbone address is the TLS (and, over TCP, the connection) server. */
export function linkRole(local: CheckedSwitch, peer: CheckedSwitch): LinkRole {
  return local.backbone < peer.backbone ? "tls-server" : "tls-client";
}
