import type { Route } from "@switchboard/shared";
import { isNetworkCidr, parseCidr, parseIpv4 } from "@switchboard/shared";
import type { KernelRoute } from "./kernel-routes.ts";

/** A route the agent will not program, and why (reported to the API, never silently dropped). */
export interface RouteFailure {
  readonly destination: string;
  readonly reason: "kernel" | "conflict" | "guard" | "invalid";
  readonly message: string;
}

/** What to do to the kernel: `upsert` are `route replace` (add or re-point), `remove` our stale routes. */
export interface RouteChanges {
  readonly upsert: readonly Route[];
  readonly remove: readonly KernelRoute[];
  /** Desired routes already in place. */
  readonly unchanged: readonly Route[];
  /** Desired routes held back before reaching the kernel. */
  readonly failures: readonly RouteFailure[];
}

const DEVICE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

/** Checks a desired route before it may become a line of an `ip -batch` script (no spaces, no newlines). */
export function invalidRoute(route: Route): string | undefined {
  const cidr = typeof route.destination === "string" ? parseCidr(route.destination) : undefined;
  if (cidr === undefined || !isNetworkCidr(cidr)) return "destination is not a network CIDR";
  if (cidr.prefix === 0) return "a default route is never the agent's";
  if (typeof route.via !== "string" || parseIpv4(route.via) === undefined) return "via is not an IPv4 address";
  if (typeof route.dev !== "string" || !DEVICE.test(route.dev)) return "dev is not an interface name";
  return undefined;
}

function matches(kernel: KernelRoute, route: Route): boolean {
  return kernel.type === "unicast" && kernel.metric === 0 && kernel.via === route.via && kernel.dev === route.dev;
}

/**
 * Desired routes against the main table as read. Pure, so the rules are tested without a kernel:
 *   - only routes with our protocol are ever replaced or removed;
 *   - a destination another owner holds at metric 0 is a conflict: `replace` would overwrite
 *     that route, so it is left alone and reported;
 *   - our route with a metric (someone re-added it by hand) is removed and put back at metric 0;
 *   - a desired route already present is not touched, so a repeated apply changes nothing.
 */
export function diffKernelRoutes(desired: readonly Route[], current: readonly KernelRoute[]): RouteChanges {
  const foreign = new Set(current.filter((r) => !r.owned && r.metric === 0).map((r) => r.destination));
  const ownedByDestination = new Map<string, KernelRoute[]>();
  for (const route of current) {
    if (!route.owned) continue;
    const list = ownedByDestination.get(route.destination) ?? [];
    list.push(route);
    ownedByDestination.set(route.destination, list);
  }

  const upsert: Route[] = [];
  const unchanged: Route[] = [];
  const failures: RouteFailure[] = [];
  const keep = new Set<KernelRoute>();
  const wanted = new Set<string>();
  for (const route of desired) {
    const problem = invalidRoute(route);
    if (problem !== undefined) {
      failures.push({ destination: String(route.destination), reason: "invalid", message: problem });
      continue;
    }
    if (wanted.has(route.destination)) {
      failures.push({ destination: route.destination, reason: "invalid", message: "destination listed twice" });
      continue;
    }
    wanted.add(route.destination);
    const owned = ownedByDestination.get(route.destination) ?? [];
    if (foreign.has(route.destination) && owned.every((r) => r.metric !== 0)) {
      failures.push({
        destination: route.destination,
        reason: "conflict",
        message: "another route owner holds this destination in the main table",
      });
      continue;
    }
    const same = owned.find((r) => matches(r, route));
    if (same !== undefined) {
      keep.add(same);
      unchanged.push(route);
    } else {
      upsert.push(route);
      // `replace` takes over our metric-0 route in place; anything else of ours is removed.
      const replaced = owned.find((r) => r.metric === 0);
      if (replaced !== undefined) keep.add(replaced);
    }
  }
  const remove = current.filter((r) => r.owned && !keep.has(r));
  return { upsert, remove, unchanged, failures };
}

/**
 * The `ip -batch` script: every add or re-point BEFORE any delete, so a destination that moves
 * from one route to another is never without one, and a failure halfway leaves extra routes
 * rather than missing ones.
 */
export function renderBatch(changes: Pick<RouteChanges, "upsert" | "remove">, protocol: number): string[] {
  const lines: string[] = [];
  for (const r of changes.upsert) {
    lines.push(`route replace ${r.destination} via ${r.via} dev ${r.dev} proto ${protocol} table main`);
  }
  for (const r of changes.remove) {
    const metric = r.metric === 0 ? "" : ` metric ${r.metric}`;
    lines.push(`route del ${r.destination} proto ${protocol}${metric} table main`);
  }
  return lines;
}

/**
 * `ip -force -batch` keeps going after a failing line and reports each as
 * "Command failed -:<line>" after the kernel's message. Returns the message per 1-based line.
 */
export function parseBatchErrors(stderr: string): Map<number, string> {
  const failed = new Map<number, string>();
  let message: string[] = [];
  for (const line of stderr.split("\n")) {
    const match = /^Command failed -:(\d+)$/.exec(line.trim());
    if (match) {
      failed.set(Number(match[1]), message.join(" ").trim() || "ip reported an error");
      message = [];
    } else if (line.trim() !== "") {
      message.push(line.trim());
    }
  }
  return failed;
}
