import { lookup as dnsLookup } from "node:dns/promises";
import { type AgentError, type DesiredState, formatIpv4, parseIpv4 } from "@switchboard/shared";
import type { RouteLookup } from "../routes/kernel-routes.ts";
import { type KeptAddress, type RoutedPrefix, unsafeRoutes } from "../routes/route-safety.ts";

/**
 * Checks a desired state's routes before the agent takes it (route-safety.ts says why): the API
 * host and the peers its backbone links dial are resolved here, then the kernel is asked how it
 * reaches each (`ip route get`), which names the uplink gateway actually in use; the default
 * routes' gateways count too. An address the kernel delivers locally is left out: the local
 * table wins over any route the agent adds to main.
 *
 * Lookups cost a few `ip` runs, so their result is kept until the set of names changes or a
 * full snapshot asks for a fresh look (on connect, and whenever the API resyncs).
 */
export interface RouteGuardDeps {
  /** The kernel's route lookup for one address (RouteProgrammer.lookup). */
  lookup(address: string): Promise<RouteLookup | undefined>;
  /** Gateways of the default routes (RouteProgrammer.defaultGateways). */
  defaultGateways(): Promise<string[]>;
  /** IPv4 addresses of a host name; default: the system resolver, 5 s at most. */
  resolve?(name: string): Promise<string[]>;
  /** The hosts of the API URLs the agent connects to (every instance it may fail over to). */
  readonly apiHosts?: readonly string[] | undefined;
  warn?(message: string): void;
}

interface Target {
  readonly host: string;
  readonly what: string;
}

const RESOLVE_TIMEOUT_MS = 5000;

async function systemResolve(name: string): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${RESOLVE_TIMEOUT_MS / 1000} s`)), RESOLVE_TIMEOUT_MS);
  });
  try {
    const answers = await Promise.race([dnsLookup(name, { all: true, family: 4 }), timeout]);
    return answers.map((answer) => answer.address);
  } finally {
    clearTimeout(timer);
  }
}

/** The hosts of `remote` lines in the backbone link configs: the peers this switch dials. */
export function linkRemotes(state: Pick<DesiredState, "links">): Target[] {
  const targets: Target[] = [];
  for (const link of state.links) {
    for (const match of link.config.matchAll(/^remote[ \t]+(\S+)/gm)) {
      if (match[1]) targets.push({ host: match[1], what: `the endpoint of backbone peer ${link.peerOffset}` });
    }
  }
  return targets;
}

/**
 * Every prefix the state can make the kernel route: its routes, the subnets behind hosts that may
 * connect here, and what the configs' `ifconfig` lines make OpenVPN install (the server's subnet
 * on its tun device, each link's peer address): the allow-list takes any address and mask there.
 */
export function routedPrefixes(state: Pick<DesiredState, "routes" | "hosts" | "server" | "links">): RoutedPrefix[] {
  const routed: RoutedPrefix[] = state.routes.map((route) => ({
    destination: route.destination,
    source: `route via ${route.via} dev ${route.dev}`,
  }));
  routed.push(...ifconfigPrefixes(state));
  for (const host of state.hosts) {
    if (host.clientConfig === null) continue;
    for (const subnet of host.subnets)
      routed.push({ destination: subnet, source: `subnet behind host ${host.commonName}` });
  }
  return routed;
}

/** `ifconfig <address> <netmask>` (server) and `ifconfig <local> <peer>` (links) as prefixes. */
export function ifconfigPrefixes(state: Pick<DesiredState, "server" | "links">): RoutedPrefix[] {
  const prefixes: RoutedPrefix[] = [];
  for (const match of state.server.serverConfig.matchAll(/^ifconfig[ \t]+(\S+)[ \t]+(\S+)/gm)) {
    const address = parseIpv4(match[1] ?? "");
    const length = prefixLengthOf(match[2] ?? "");
    if (address === undefined || length === undefined) continue; // the config check refuses it
    const network = length === 0 ? 0 : (address & (~0 << (32 - length))) >>> 0;
    prefixes.push({ destination: `${formatIpv4(network)}/${length}`, source: "the data server's ifconfig" });
  }
  for (const link of state.links) {
    for (const match of link.config.matchAll(/^ifconfig[ \t]+\S+[ \t]+(\S+)/gm)) {
      if (parseIpv4(match[1] ?? "") === undefined) continue;
      prefixes.push({ destination: `${match[1]}/32`, source: `the ifconfig of backbone link ${link.peerOffset}` });
    }
  }
  return prefixes;
}

/** 255.255.255.0 → 24; undefined for a mask that is not contiguous ones then zeros. */
function prefixLengthOf(netmask: string): number | undefined {
  const value = parseIpv4(netmask);
  if (value === undefined) return undefined;
  const length = Math.clz32(~value >>> 0);
  const expected = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  return expected === value ? length : undefined;
}

export class RouteGuard {
  private cached: { key: string; kept: KeptAddress[] } | undefined;
  /** The kept addresses of the last check that passed: the agent took that state (it checks routes last). */
  private passedWith: KeptAddress[] | undefined;

  constructor(private readonly deps: RouteGuardDeps) {}

  /** Errors for the ack; none means the state's routes leave this switch its way out. */
  async check(state: DesiredState, options: { fresh?: boolean } = {}): Promise<AgentError[]> {
    const kept = await this.keptAddresses(state, options.fresh === true);
    return this.passed(unsafeRoutes(routedPrefixes(state), kept), kept);
  }

  /**
   * The check for a state reached by a delta, in O(what changed): the state it replaces passed
   * against the same kept addresses (the last check that passed), so only the routes and host subnets the delta brings (and
   * the configs' ifconfig prefixes, a few) can newly cover one. When the addresses differ from
   * the last check's (the links' remotes changed, or nothing was checked yet) every prefix is
   * checked again, as `check` does.
   */
  async checkChange(
    state: DesiredState,
    changed: { readonly routes: DesiredState["routes"]; readonly hosts: DesiredState["hosts"] },
  ): Promise<AgentError[]> {
    const kept = await this.keptAddresses(state, false);
    const prefixes =
      this.passedWith === kept
        ? routedPrefixes({ ...changed, server: state.server, links: state.links })
        : routedPrefixes(state);
    return this.passed(unsafeRoutes(prefixes, kept), kept);
  }

  private passed(errors: AgentError[], kept: KeptAddress[]): AgentError[] {
    if (errors.length === 0) this.passedWith = kept;
    return errors;
  }

  /** What the agent must keep reaching, as of the last lookup. */
  async keptAddresses(state: Pick<DesiredState, "links">, fresh = false): Promise<KeptAddress[]> {
    const targets: Target[] = [
      ...(this.deps.apiHosts ?? []).map((host) => ({ host, what: `the API host ${host}` })),
      ...linkRemotes(state),
    ];
    const key = JSON.stringify(targets);
    if (!fresh && this.cached?.key === key) return this.cached.kept;
    const kept = await this.look(targets);
    this.cached = { key, kept };
    return kept;
  }

  private async look(targets: readonly Target[]): Promise<KeptAddress[]> {
    const kept = new Map<string, KeptAddress>();
    const keep = (address: string, what: string) => {
      if (!kept.has(address)) kept.set(address, { address, what });
    };
    for (const target of targets) {
      for (const address of await this.addressesOf(target.host)) {
        const what = address === target.host ? target.what : `${target.what} (${address})`;
        const route = await this.deps.lookup(address).catch(() => undefined);
        if (route?.type === "local") continue;
        keep(address, what);
        if (route?.gateway !== undefined) keep(route.gateway, `the gateway toward ${target.what}`);
      }
    }
    for (const gateway of await this.deps.defaultGateways().catch(() => [])) {
      keep(gateway, "the uplink gateway (default route)");
    }
    return [...kept.values()];
  }

  private async addressesOf(host: string): Promise<string[]> {
    const bare = host.replace(/^\[|\]$/g, "");
    if (parseIpv4(bare) !== undefined) return [bare];
    if (bare.includes(":")) return []; // IPv6: the agent only routes IPv4.
    try {
      return await (this.deps.resolve ?? systemResolve)(bare);
    } catch (error) {
      this.deps.warn?.(
        `route guard: cannot resolve ${bare}: ${error instanceof Error ? error.message : String(error)}`,
      );
      return [];
    }
  }
}
