import { contains, intToIp, overlaps, type Subnet4, specialUseOverlap } from "@switchboard/shared";
import { HttpError } from "../../http/error-handler.ts";
import { badRequest, conflict } from "../../http/errors.ts";
import { requireSubnet } from "../subnet-rules.ts";

/**
 * The rules for what a host may route (issue 13). A host's `subnets` become kernel routes on
 * EVERY switch of its network (iroute behind the host, a route over the backbone elsewhere), so
 * one careless prefix can swallow the addresses a switch itself needs: its uplink, the other
 * switches' endpoints, the API (one operator PATCH with 128.0.0.0/1 took every agent offline).
 * `pushRoutes` only change the host's own table, but the same kind of prefix cuts the host off.
 *
 * Prefix lengths, two floors:
 *   - shorter than `minPrefix` (default /8): refused for everyone, subnets and pushed routes;
 *   - host subnets from `minPrefix` to just under `operatorMinPrefix` (default /16): an admin
 *     may add them, an operator may not (403). A subnet already on the host stays editable
 *     around by an operator (changing its description does not need an admin).
 */
export interface HostRouteLimits {
  readonly minPrefix: number;
  readonly operatorMinPrefix: number;
}

export const DEFAULT_HOST_ROUTE_LIMITS: HostRouteLimits = { minPrefix: 8, operatorMinPrefix: 16 };

/** An address that must stay reachable outside the VPN, and what it is, for the message. */
export interface KeptAddress {
  readonly address: number;
  readonly what: string;
}

/** Who asks, and what the API knows of itself from the request. */
export interface HostCaller {
  readonly isAdmin: boolean;
  /** The API's own IPv4 addresses (api-addresses.ts). */
  readonly apiAddresses: readonly number[];
}

export interface HostRouteContext {
  readonly data: Subnet4;
  readonly backbone: Subnet4;
  readonly limits: HostRouteLimits;
  /** The switches' IPv4 endpoints (a name cannot be checked here; the agent checks what it resolves). */
  readonly endpoints: readonly KeptAddress[];
  readonly caller: HostCaller;
}

const forbidden = (field: string, rule: string) => new HttpError(403, `${field} ${rule}`, field, rule);

/** The first special-use range, data or backbone subnet a prefix overlaps, as a rule. */
function overlapRule(subnet: Subnet4, context: HostRouteContext): string | undefined {
  const special = specialUseOverlap({ address: subnet.network, prefix: subnet.prefix });
  if (special) return `overlaps ${special.name}`;
  if (overlaps(subnet, context.data)) return `overlaps the data subnet ${context.data.cidr}`;
  if (overlaps(subnet, context.backbone)) return `overlaps the backbone subnet ${context.backbone.cidr}`;
  return undefined;
}

function coveredEndpoint(subnet: Subnet4, context: HostRouteContext): KeptAddress | undefined {
  return context.endpoints.find((kept) => contains(subnet, kept.address));
}

/**
 * A host's subnets, each checked alone and against the others of the same host; `existing` are
 * the ones it has now (an operator may keep an admin's short prefix, not add one). Overlaps with
 * other hosts are the caller's (they need the database).
 */
export function checkHostSubnets(
  field: string,
  cidrs: readonly string[],
  context: HostRouteContext,
  existing: readonly string[] = [],
): Subnet4[] {
  const { limits, caller } = context;
  const subnets: Subnet4[] = [];
  cidrs.forEach((cidr, index) => {
    const at = `${field}.${index}`;
    const subnet = requireSubnet(at, cidr);
    if (subnet.prefix < limits.minPrefix) {
      throw badRequest(
        at,
        `must be /${limits.minPrefix} or longer (got /${subnet.prefix}): every switch routes it, and a prefix this short captures the switches' own traffic`,
      );
    }
    const overlap = overlapRule(subnet, context);
    if (overlap) throw badRequest(at, overlap);
    const twin = subnets.findIndex((other) => overlaps(other, subnet));
    if (twin !== -1) throw badRequest(at, `overlaps ${field}.${twin} of the same host`);
    const endpoint = coveredEndpoint(subnet, context);
    if (endpoint) {
      throw conflict(
        at,
        `covers ${intToIp(endpoint.address)}, ${endpoint.what}: the switches would route their own links into this host`,
      );
    }
    const api = caller.apiAddresses.find((address) => contains(subnet, address));
    if (api !== undefined) {
      throw conflict(
        at,
        `covers ${intToIp(api)}, an address of this API: the switches' agents would lose their way to it`,
      );
    }
    if (subnet.prefix < limits.operatorMinPrefix && !caller.isAdmin && !existing.includes(cidr)) {
      throw forbidden(
        at,
        `is a /${subnet.prefix}: a subnet shorter than /${limits.operatorMinPrefix} behind a host needs an admin`,
      );
    }
    subnets.push(subnet);
  });
  return subnets;
}

/** Routes pushed to one host: they must leave the host a way to its switches. */
export function checkHostPushRoutes(
  field: string,
  cidrs: readonly string[],
  subnets: readonly Subnet4[],
  subnetsField: string,
  context: HostRouteContext,
): Subnet4[] {
  return cidrs.map((cidr, index) => {
    const at = `${field}.${index}`;
    const route = requireSubnet(at, cidr);
    if (route.prefix < context.limits.minPrefix) {
      // 0.0.0.0/1 + 128.0.0.0/1 is how a default route is pushed without replacing it.
      throw badRequest(
        at,
        `must be /${context.limits.minPrefix} or longer (got /${route.prefix}): it would take over the host's default route, and with it the way to its switches`,
      );
    }
    const overlap = overlapRule(route, context);
    if (overlap) throw badRequest(at, overlap);
    const own = subnets.findIndex((subnet) => route.prefix >= subnet.prefix && overlaps(route, subnet));
    if (own !== -1) throw badRequest(at, `lies inside ${subnetsField}.${own}, a subnet behind this same host`);
    const endpoint = coveredEndpoint(route, context);
    if (endpoint) {
      throw conflict(
        at,
        `covers ${intToIp(endpoint.address)}, ${endpoint.what}: the host would send its tunnel into itself`,
      );
    }
    return route;
  });
}
