import {
  cidrsOverlap,
  cidrWithin,
  formatCidr,
  type Ipv4Cidr,
  isHostAddress,
  netmask,
  networkAddress,
} from "../net/cidr.ts";
import { formatIpv4 } from "../net/ipv4.ts";
import { RenderError } from "./errors.ts";
import type { RenderHost, RenderNetwork, RenderSwitch, TransportProto } from "./model.ts";
import * as v from "./validate.ts";

/**
 * Model-level rules: each value passes its validator, then the values must fit together (a switch
 * address inside the data subnet, pools apart, ...). Renderers only ever see the checked forms.
 */

export interface CheckedNetwork {
  readonly data: Ipv4Cidr;
  readonly dataMask: string;
  readonly backbone: Ipv4Cidr;
  readonly proto: TransportProto;
  readonly port: number;
  readonly keepaliveInterval: number;
  readonly keepaliveTimeout: number;
  /** Colon-joined, the form `data-ciphers` takes. */
  readonly ciphers: string;
  readonly pushRoutes: readonly Ipv4Cidr[];
  readonly dnsServers: readonly string[];
  readonly dnsDomain: string | undefined;
  readonly backbonePortBase: number;
  readonly remoteRandom: boolean;
}

export interface CheckedSwitch {
  readonly id: string;
  readonly name: string;
  readonly endpointHost: string;
  readonly endpointPort: number;
  readonly data: number;
  /** Dynamic pool slice; null when the switch serves static hosts only. */
  readonly pool: { readonly start: number; readonly end: number } | null;
  readonly backbone: number;
  /** Position of the backbone address in the backbone subnet; names the switch's links (naming.ts). */
  readonly backboneOffset: number;
  readonly enabled: boolean;
}

export interface CheckedHost {
  readonly commonName: string;
  readonly address: number;
  readonly subnets: readonly Ipv4Cidr[];
  readonly pushRoutes: readonly Ipv4Cidr[];
  readonly enabled: boolean;
}

function boolean(field: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new RenderError(field, "must be true or false");
  return value;
}

function noRepeats(field: string, cidrs: readonly Ipv4Cidr[]): void {
  const seen = new Set<string>();
  cidrs.forEach((cidr, index) => {
    const key = formatCidr(cidr);
    if (seen.has(key)) throw new RenderError(`${field}[${index}]`, "must not repeat a route");
    seen.add(key);
  });
}

export function checkNetwork(network: RenderNetwork, field = "network"): CheckedNetwork {
  if (typeof network !== "object" || network === null) throw new RenderError(field, "must be an object");
  if (typeof network.name !== "string" || network.name.length === 0) {
    throw new RenderError(`${field}.name`, "must be a non-empty string");
  }
  const data = v.routableCidr(`${field}.dataSubnet`, network.dataSubnet, 16, 29);
  const backbone = v.routableCidr(`${field}.backboneSubnet`, network.backboneSubnet, 16, 30);
  if (cidrsOverlap(data, backbone)) {
    throw new RenderError(`${field}.backboneSubnet`, `must not overlap the data subnet ${formatCidr(data)}`);
  }
  if (network.proto !== "udp" && network.proto !== "tcp") throw new RenderError(`${field}.proto`, "must be udp or tcp");
  const port = v.port(`${field}.port`, network.port);
  const keepaliveInterval = v.integer(`${field}.keepaliveInterval`, network.keepaliveInterval, 1, 3600);
  const keepaliveTimeout = v.integer(`${field}.keepaliveTimeout`, network.keepaliveTimeout, 2, 86400);
  // OpenVPN refuses a restart timeout below twice the ping interval.
  if (keepaliveTimeout < 2 * keepaliveInterval) {
    throw new RenderError(`${field}.keepaliveTimeout`, "must be at least twice keepaliveInterval");
  }
  const ciphers = v.cipherList(`${field}.dataCiphers`, network.dataCiphers).join(":");
  const pushRoutes = v.list(`${field}.pushRoutes`, network.pushRoutes, (f, item) => {
    const route = v.routableCidr(f, item, 1, 32);
    // The data subnet is on every host's tun already, and the backbone is the switches' own.
    if (cidrsOverlap(route, data)) throw new RenderError(f, `must not overlap the data subnet ${formatCidr(data)}`);
    if (cidrsOverlap(route, backbone)) {
      throw new RenderError(f, `must not overlap the backbone subnet ${formatCidr(backbone)}`);
    }
    return route;
  });
  noRepeats(`${field}.pushRoutes`, pushRoutes);
  const dnsServers = v.list(`${field}.dnsServers`, network.dnsServers, (f, item) => formatIpv4(v.unicastIpv4(f, item)));
  const domain: unknown = network.dnsDomain;
  const dnsDomain = domain === undefined || domain === null ? undefined : v.dnsDomain(`${field}.dnsDomain`, domain);
  const base: unknown = network.backbonePortBase;
  const backbonePortBase = base === undefined || base === null ? port : v.port(`${field}.backbonePortBase`, base);
  const random: unknown = network.remoteRandom;
  const remoteRandom = random === undefined || random === null ? false : boolean(`${field}.remoteRandom`, random);
  return {
    data,
    dataMask: netmask(data.prefix),
    backbone,
    proto: network.proto,
    port,
    keepaliveInterval,
    keepaliveTimeout,
    ciphers,
    pushRoutes,
    dnsServers,
    dnsDomain,
    backbonePortBase,
    remoteRandom,
  };
}

function dataHost(net: CheckedNetwork, field: string, value: unknown): number {
  const address = v.ipv4(field, value);
  if (!isHostAddress(net.data, address)) {
    throw new RenderError(field, `must be a host address of the data subnet ${formatCidr(net.data)}`);
  }
  return address;
}

export function checkSwitch(net: CheckedNetwork, sw: RenderSwitch, field = "switch"): CheckedSwitch {
  if (typeof sw !== "object" || sw === null) throw new RenderError(field, "must be an object");
  const id = v.switchId(`${field}.id`, sw.id);
  if (typeof sw.name !== "string") throw new RenderError(`${field}.name`, "must be a string");
  const endpointHost = v.remoteHost(`${field}.endpointHost`, sw.endpointHost);
  const endpointPort = v.port(`${field}.endpointPort`, sw.endpointPort);
  const data = dataHost(net, `${field}.dataAddress`, sw.dataAddress);
  let pool: CheckedSwitch["pool"] = null;
  if (sw.poolStart != null || sw.poolEnd != null) {
    const start = dataHost(net, `${field}.poolStart`, sw.poolStart);
    const end = dataHost(net, `${field}.poolEnd`, sw.poolEnd);
    if (end < start) throw new RenderError(`${field}.poolEnd`, "must not be below poolStart");
    pool = { start, end };
  }
  if (inPool(pool, data)) throw new RenderError(`${field}.dataAddress`, "must lie outside the switch's own pool");
  const backbone = v.ipv4(`${field}.backboneAddress`, sw.backboneAddress);
  if (!isHostAddress(net.backbone, backbone)) {
    throw new RenderError(
      `${field}.backboneAddress`,
      `must be a host address of the backbone subnet ${formatCidr(net.backbone)}`,
    );
  }
  const enabled = boolean(`${field}.enabled`, sw.enabled);
  const backboneOffset = backbone - networkAddress(net.backbone);
  return { id, name: sw.name, endpointHost, endpointPort, data, pool, backbone, backboneOffset, enabled };
}

/**
 * The port on which every other switch listens for its link to `sw` (naming.ts): the backbone
 * port base plus `sw`'s offset in the backbone subnet. The offset grows with the address, so a
 * high network port and a high backbone address can pass 65535.
 */
export function backboneListenPort(net: CheckedNetwork, sw: CheckedSwitch, field: string): number {
  const port = net.backbonePortBase + sw.backboneOffset;
  if (port > 65535) {
    throw new RenderError(
      field,
      `gives backbone port ${port} (port ${net.backbonePortBase} + backbone offset ${sw.backboneOffset}), past 65535`,
    );
  }
  if (port === net.port)
    throw new RenderError(field, `gives backbone port ${port}, which would collide with the network port`);
  return port;
}

function inPool(pool: CheckedSwitch["pool"], address: number): boolean {
  return pool !== null && address >= pool.start && address <= pool.end;
}

/** The rules that let several servers share one subnet: distinct addresses, pools that never meet. */
export function checkSwitchSet(
  net: CheckedNetwork,
  switches: readonly RenderSwitch[],
  field = "switches",
): CheckedSwitch[] {
  const checked = v.list(field, switches, (f, item) => checkSwitch(net, item as RenderSwitch, f));
  checked.forEach((sw, i) => {
    // Every switch, linked or not: enabling one later must not make the network unrenderable.
    backboneListenPort(net, sw, `${field}[${i}].backboneAddress`);
    for (let j = 0; j < i; j++) {
      const other = checked[j] as CheckedSwitch;
      const at = `${field}[${i}]`;
      if (sw.id === other.id) throw new RenderError(`${at}.id`, `must be unique (same as ${field}[${j}])`);
      if (sw.data === other.data) throw new RenderError(`${at}.dataAddress`, `must be unique (same as ${field}[${j}])`);
      if (sw.backbone === other.backbone) {
        throw new RenderError(`${at}.backboneAddress`, `must be unique (same as ${field}[${j}])`);
      }
      if (sw.pool && other.pool && sw.pool.start <= other.pool.end && other.pool.start <= sw.pool.end) {
        throw new RenderError(`${at}.poolStart`, `pool must not overlap the pool of ${field}[${j}]`);
      }
      if (inPool(other.pool, sw.data) || inPool(sw.pool, other.data)) {
        throw new RenderError(`${at}.dataAddress`, `switch addresses must lie outside every pool (see ${field}[${j}])`);
      }
    }
  });
  return checked;
}

export function checkHost(
  net: CheckedNetwork,
  host: RenderHost,
  switches: readonly CheckedSwitch[],
  field = "host",
): CheckedHost {
  if (typeof host !== "object" || host === null) throw new RenderError(field, "must be an object");
  const commonName = v.commonName(`${field}.commonName`, host.commonName);
  const address = dataHost(net, `${field}.address`, host.address);
  for (const sw of switches) {
    if (address === sw.data) throw new RenderError(`${field}.address`, `must not be the address of switch ${sw.id}`);
    if (inPool(sw.pool, address)) {
      // Without the `server` helper OpenVPN does not keep static addresses out of pools.
      throw new RenderError(`${field}.address`, `must lie outside the dynamic pool of switch ${sw.id}`);
    }
  }
  // Routed on every switch: a special-use range there captures the switch's own traffic.
  const subnets = v.list(`${field}.subnets`, host.subnets, (f, item) => v.routableCidr(f, item, 1, 32));
  subnets.forEach((subnet, i) => {
    const at = `${field}.subnets[${i}]`;
    if (cidrsOverlap(subnet, net.data)) throw new RenderError(at, "must not overlap the data subnet");
    if (cidrsOverlap(subnet, net.backbone)) throw new RenderError(at, "must not overlap the backbone subnet");
    subnets.slice(0, i).forEach((other, j) => {
      if (cidrsOverlap(subnet, other)) throw new RenderError(at, `must not overlap ${field}.subnets[${j}]`);
    });
  });
  // The same rules as the network's pushed routes: the host's ccd adds its own to those.
  const pushRoutes = v.list(`${field}.pushRoutes`, host.pushRoutes, (f, item) => {
    // /0 would replace the host's default route without an exception for the switch.
    const route = v.routableCidr(f, item, 1, 32);
    if (cidrsOverlap(route, net.data))
      throw new RenderError(f, `must not overlap the data subnet ${formatCidr(net.data)}`);
    if (cidrsOverlap(route, net.backbone)) {
      throw new RenderError(f, `must not overlap the backbone subnet ${formatCidr(net.backbone)}`);
    }
    return route;
  });
  noRepeats(`${field}.pushRoutes`, pushRoutes);
  pushRoutes.forEach((route, i) => {
    if (subnets.some((subnet) => cidrWithin(route, subnet))) {
      // The host would send part of its own LAN into the tunnel.
      throw new RenderError(`${field}.pushRoutes[${i}]`, "must not lie inside one of the host's own subnets");
    }
  });
  const enabled = boolean(`${field}.enabled`, host.enabled);
  return { commonName, address, subnets, pushRoutes, enabled };
}

/** Route directives take "network netmask". */
export function routeArgs(cidr: Ipv4Cidr): [string, string] {
  return [formatIpv4(networkAddress(cidr)), netmask(cidr.prefix)];
}
