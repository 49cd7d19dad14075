import { type AgentError, parseIpv4 } from "@switchboard/shared";

/**
 * Addresses this switch must keep reaching outside its own tunnels: the API it takes orders
 * from, the peers its backbone links dial, and the gateway(s) its uplink goes through. A route
 * that covers one of them pulls that traffic into a tunnel that itself runs over it, and the
 * switch is cut off for good: the undo could no longer arrive (issue 13: a host subnet
 * 128.0.0.0/1 took every agent offline). The API refuses such subnets too; this is the switch's
 * own last word, with what only the switch knows (its gateway, what names resolve to here).
 */
export interface KeptAddress {
  readonly address: string;
  /** What it is, for the refusal ("the API host api.example"). */
  readonly what: string;
}

/** A destination the desired state would route, and where it comes from. */
export interface RoutedPrefix {
  readonly destination: string;
  readonly source: string;
}

/**
 * First and last address of "a.b.c.d/n", by plain arithmetic: this runs over every route of a
 * desired state (up to 200,000) on each update, where the shared parser takes ~20 µs a route.
 * The messages were checked against the schema already; anything odd is simply not a match.
 */
function bounds(text: string): { first: number; last: number } | undefined {
  let address = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  let i = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57 && digits < 3) {
      octet = octet * 10 + (c - 48);
      digits += 1;
    } else if ((c === 46 && dots < 3) || (c === 47 && dots === 3)) {
      if (digits === 0 || octet > 255) return undefined;
      address = address * 256 + octet;
      octet = 0;
      digits = 0;
      dots += 1;
      if (c === 47) break;
    } else {
      return undefined;
    }
  }
  const prefix = Number(text.slice(i + 1));
  if (dots !== 4 || !Number.isInteger(prefix) || prefix < 0 || prefix > 32 || i + 1 >= text.length) return undefined;
  const size = 2 ** (32 - prefix);
  const first = address - (address % size);
  return { first, last: first + size - 1 };
}

/** Every routed prefix that covers a kept address, as errors for the ack. Pure. */
export function unsafeRoutes(routed: readonly RoutedPrefix[], kept: readonly KeptAddress[]): AgentError[] {
  const addresses = kept.flatMap((k) => {
    const address = parseIpv4(k.address);
    return address === undefined ? [] : [{ ...k, value: address }];
  });
  if (addresses.length === 0) return [];
  const errors: AgentError[] = [];
  const seen = new Set<string>();
  for (const prefix of routed) {
    const range = bounds(prefix.destination);
    if (range === undefined || seen.has(prefix.destination)) continue;
    const covered = addresses.find((k) => k.value >= range.first && k.value <= range.last);
    if (covered === undefined) continue;
    seen.add(prefix.destination);
    errors.push({
      scope: "route",
      target: prefix.destination,
      message: `refused (${prefix.source}): covers ${covered.address}, ${covered.what}; this switch would lose its way to it, so nothing of this desired state was applied`,
    });
  }
  return errors;
}
