import { parseIpv4 } from "@switchboard/shared";
import { dottedQuad, prefixLength } from "./dotted-quad.ts";
import { isOwnProtocol } from "./route-protocol.ts";

/** One IPv4 route of the main table as `ip -json route show table main` describes it. */
export interface KernelRoute {
  /** Always a CIDR ("10.1.0.1/32"): ip prints host routes without the prefix. */
  readonly destination: string;
  readonly via: string | undefined;
  readonly dev: string | undefined;
  readonly metric: number;
  /** "unicast" unless ip says otherwise (blackhole, unreachable, ...). */
  readonly type: string;
  readonly owned: boolean;
}

/**
 * Reads ip's JSON. Every entry with an IPv4 destination is kept, whatever its type, because a
 * foreign blackhole on a destination we want is still a conflict; `default` is left out (the
 * agent never routes /0).
 */
export function parseIpRouteJson(text: string): KernelRoute[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const data: unknown = JSON.parse(trimmed);
  if (!Array.isArray(data)) throw new Error("ip -json route: expected a list");
  const routes: KernelRoute[] = [];
  for (const item of data as Record<string, unknown>[]) {
    if (typeof item !== "object" || item === null || typeof item.dst !== "string") continue;
    const destination = item.dst.includes("/") ? item.dst : `${item.dst}/32`;
    const slash = destination.indexOf("/");
    const address = dottedQuad(destination, 0, slash);
    const prefix = prefixLength(destination, slash + 1);
    if (address === -1 || prefix === -1 || address % 2 ** (32 - prefix) !== 0) continue;
    routes.push({
      destination,
      via:
        typeof item.gateway === "string" && dottedQuad(item.gateway, 0, item.gateway.length) !== -1
          ? item.gateway
          : undefined,
      dev: typeof item.dev === "string" ? item.dev : undefined,
      metric: typeof item.metric === "number" ? item.metric : 0,
      type: typeof item.type === "string" ? item.type : "unicast",
      owned: isOwnProtocol(item.protocol),
    });
  }
  return routes;
}

/** Where the kernel sends packets for one address now, as `ip -json route get` answers. */
export interface RouteLookup {
  /** The next hop, when the address is not on a directly connected link. */
  readonly gateway: string | undefined;
  readonly dev: string | undefined;
  /** "unicast", or "local" for the machine's own addresses. */
  readonly type: string;
}

export function parseRouteGetJson(text: string): RouteLookup | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  const data: unknown = JSON.parse(trimmed);
  const item = Array.isArray(data) ? (data[0] as Record<string, unknown> | undefined) : undefined;
  if (typeof item !== "object" || item === null) return undefined;
  return {
    gateway: typeof item.gateway === "string" && parseIpv4(item.gateway) !== undefined ? item.gateway : undefined,
    dev: typeof item.dev === "string" ? item.dev : undefined,
    type: typeof item.type === "string" ? item.type : "unicast",
  };
}

/** The IPv4 gateways of the default routes (`ip -json route show default`): the uplink. */
export function parseDefaultGateways(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const data: unknown = JSON.parse(trimmed);
  if (!Array.isArray(data)) return [];
  const gateways = new Set<string>();
  for (const item of data as Record<string, unknown>[]) {
    if (typeof item !== "object" || item === null || item.dst !== "default") continue;
    if (typeof item.gateway === "string" && parseIpv4(item.gateway) !== undefined) gateways.add(item.gateway);
  }
  return [...gateways];
}
