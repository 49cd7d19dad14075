import type { Route } from "../agent-protocol/common.ts";
import type { RouteTable } from "./snapshot.ts";

/** What one switch must change: routes to add or re-point, destinations to withdraw. */
export interface SwitchRouteChange {
  readonly switchId: string;
  readonly upsert: readonly Route[];
  readonly remove: readonly string[];
}

function sameRoute(a: Route, b: Route): boolean {
  return a.destination === b.destination && a.via === b.via && a.dev === b.dev;
}

/** Changes turning one switch's route list into another, keyed by destination. */
export function diffRouteList(
  previous: readonly Route[],
  next: readonly Route[],
): { upsert: Route[]; remove: string[] } {
  const before = new Map(previous.map((route) => [route.destination, route]));
  const after = new Set<string>();
  const upsert: Route[] = [];
  for (const route of next) {
    after.add(route.destination);
    const old = before.get(route.destination);
    if (old === undefined || !sameRoute(old, route)) upsert.push(route);
  }
  const remove = previous.map((route) => route.destination).filter((destination) => !after.has(destination));
  return { upsert, remove };
}

/**
 * The switches a change affects, each with its own delta, so the dispatcher sends a route
 * update only where something moved (a host roaming from A to B touches A and B's peers, not
 * the whole fleet when only one link's view changes). A switch missing from one side counts as
 * having no routes there. Sorted by switch id.
 */
export function diffRoutes(previous: RouteTable, next: RouteTable): SwitchRouteChange[] {
  const ids = [...new Set([...previous.keys(), ...next.keys()])].sort();
  const changes: SwitchRouteChange[] = [];
  for (const switchId of ids) {
    const { upsert, remove } = diffRouteList(previous.get(switchId) ?? [], next.get(switchId) ?? []);
    if (upsert.length > 0 || remove.length > 0) changes.push({ switchId, upsert, remove });
  }
  return changes;
}

/** A switch's route list after a change (what the agent holds after a delta): untouched routes keep their place, new ones go last. */
export function applyRouteChange(
  routes: readonly Route[],
  change: Pick<SwitchRouteChange, "upsert" | "remove">,
): Route[] {
  const byDestination = new Map(routes.map((route) => [route.destination, route]));
  for (const destination of change.remove) byDestination.delete(destination);
  for (const route of change.upsert) byDestination.set(route.destination, route);
  return [...byDestination.values()];
}
