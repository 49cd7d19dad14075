import { parseIpv4 } from "@switchboard/shared";
import type { FastifyRequest } from "fastify";

/**
 * The API's own IPv4 addresses as far as a request tells them, for "no host subnet may cover
 * the API" (host-route-rules.ts). The API does not know which address its agents dial, so it
 * takes what it can see without asking anyone: the address this request arrived on, the host
 * the client addressed (Host header) and PUBLIC_URL's host, each when it is an IPv4 literal.
 * Behind NAT or a proxy these may all be private; a name is not resolved here. The agents'
 * own check (apps/agent/src/routes/route-safety.ts) covers the address they really use.
 */
export function apiAddressesOf(request: FastifyRequest): number[] {
  const candidates = [request.socket.localAddress, hostOf(request.headers.host), publicHost(request)];
  const addresses = new Set<number>();
  for (const candidate of candidates) {
    const address = candidate === undefined ? undefined : parseIpv4(candidate.replace(/^::ffff:/i, ""));
    if (address !== undefined) addresses.add(address);
  }
  return [...addresses];
}

function hostOf(header: string | undefined): string | undefined {
  if (header === undefined || header.startsWith("[")) return undefined;
  return header.replace(/:\d+$/, "");
}

function publicHost(request: FastifyRequest): string | undefined {
  const url = request.server.transport.publicUrl;
  if (url === undefined) return undefined;
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}
