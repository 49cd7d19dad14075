import { diffRouteList } from "../routes/diff-routes.ts";
import type {
  DesiredBackboneLink,
  DesiredHost,
  DesiredState,
  DesiredStateDelta,
  ServerFiles,
} from "./desired-state.ts";

/**
 * The one definition of a desired-state delta's meaning: the API diffs (`diffDesired`), the agent
 * applies (`applyDelta`) and merges what queued up (`mergeDeltas`). Pure functions over the
 * protocol types, so `applyDelta(s, diffDesired(s, t))` equals `t` is a property test
 * (test/agent-protocol/delta.test.ts). Order of hosts and routes carries no meaning: states are
 * equal when they hold the same hosts, routes and links by key.
 */

export type DeltaResult =
  | { readonly ok: true; readonly state: DesiredState }
  | { readonly ok: false; readonly reason: "no-base" | "revision-gap" | "switch-mismatch" | "stale" };

function sameHost(a: DesiredHost, b: DesiredHost): boolean {
  return (
    a === b ||
    (a.address === b.address &&
      a.clientConfig === b.clientConfig &&
      a.subnets.length === b.subnets.length &&
      a.subnets.every((subnet, i) => subnet === b.subnets[i]))
  );
}

/**
 * Upserts and removals by key that turn `before` into `after`. Unchanged entries are usually the
 * same objects (the API shares them between ticks), so most cost one reference comparison.
 */
function diffByKey<T, K>(
  before: readonly T[],
  after: readonly T[],
  key: (item: T) => K,
  same: (a: T, b: T) => boolean,
): { upsert: T[]; remove: K[] } {
  const old = new Map(before.map((item) => [key(item), item]));
  const upsert: T[] = [];
  for (const item of after) {
    const k = key(item);
    const was = old.get(k);
    if (was === undefined || !same(was, item)) upsert.push(item);
    old.delete(k);
  }
  return { upsert, remove: [...old.keys()] };
}

/** What turns `previous` into `next`; only the parts that changed are present. */
export function diffDesired(previous: DesiredState, next: DesiredState): DesiredStateDelta {
  const delta: DesiredStateDelta = {
    type: "desired-state-delta",
    switchId: next.switchId,
    baseRevision: previous.revision,
    revision: next.revision,
  };
  if (previous.serverDevice !== next.serverDevice) delta.serverDevice = next.serverDevice;

  if (previous.server !== next.server) {
    const changed: Partial<ServerFiles> = {};
    for (const key of Object.keys(next.server) as (keyof ServerFiles)[]) {
      if (previous.server[key] !== next.server[key]) changed[key] = next.server[key];
    }
    if (Object.keys(changed).length > 0) delta.server = changed;
  }

  if (previous.links !== next.links) {
    const links = diffByKey(
      previous.links,
      next.links,
      (link: DesiredBackboneLink) => link.peerOffset,
      (a, b) => a.config === b.config,
    );
    if (links.upsert.length > 0 || links.remove.length > 0) delta.links = links;
  }

  if (previous.hosts !== next.hosts) {
    const hosts = diffByKey(previous.hosts, next.hosts, (host: DesiredHost) => host.commonName, sameHost);
    if (hosts.upsert.length > 0 || hosts.remove.length > 0) delta.hosts = hosts;
  }

  if (previous.routes !== next.routes) {
    const routes = diffRouteList(previous.routes, next.routes);
    if (routes.upsert.length > 0 || routes.remove.length > 0) delta.routes = routes;
  }
  return delta;
}

/** True when a delta carries nothing but the revision step. */
export function isEmptyDelta(delta: DesiredStateDelta): boolean {
  return (
    delta.serverDevice === undefined &&
    delta.server === undefined &&
    delta.links === undefined &&
    delta.hosts === undefined &&
    delta.routes === undefined
  );
}

function patch<T, K>(items: readonly T[], key: (item: T) => K, change: { upsert: T[]; remove: K[] } | undefined): T[] {
  if (change === undefined) return items as T[];
  const byKey = new Map(items.map((item) => [key(item), item]));
  for (const k of change.remove) byKey.delete(k);
  for (const item of change.upsert) byKey.set(key(item), item);
  return [...byKey.values()];
}

/** `state` with `delta` applied, or why not. A part the delta does not name is kept as the same array. */
export function applyDelta(state: DesiredState | undefined, delta: DesiredStateDelta): DeltaResult {
  if (state === undefined) return { ok: false, reason: "no-base" };
  if (delta.switchId !== state.switchId) return { ok: false, reason: "switch-mismatch" };
  if (delta.revision <= state.revision) return { ok: false, reason: "stale" };
  if (delta.baseRevision !== state.revision) return { ok: false, reason: "revision-gap" };

  const links = patch(state.links, (link) => link.peerOffset, delta.links);
  const routes = patch(state.routes, (route) => route.destination, delta.routes);
  return {
    ok: true,
    state: {
      ...state,
      revision: delta.revision,
      serverDevice: delta.serverDevice ?? state.serverDevice,
      server: delta.server === undefined ? state.server : { ...state.server, ...delta.server },
      links: delta.links === undefined ? links : links.sort((a, b) => a.peerOffset - b.peerOffset),
      hosts: patch(state.hosts, (host) => host.commonName, delta.hosts),
      routes,
      routeCount: routes.length,
    },
  };
}

/** One change list that does what `first` then `second` do (a key's last word wins). */
function mergeChanges<T, K>(
  first: { upsert: T[]; remove: K[] } | undefined,
  second: { upsert: T[]; remove: K[] } | undefined,
  key: (item: T) => K,
): { upsert: T[]; remove: K[] } | undefined {
  if (first === undefined) return second;
  if (second === undefined) return first;
  const last = new Map<K, T | null>();
  for (const k of first.remove) last.set(k, null);
  for (const item of first.upsert) last.set(key(item), item);
  for (const k of second.remove) last.set(k, null);
  for (const item of second.upsert) last.set(key(item), item);
  const upsert: T[] = [];
  const remove: K[] = [];
  for (const [k, item] of last) {
    if (item === null) remove.push(k);
    else upsert.push(item);
  }
  return { upsert, remove };
}

/**
 * Two consecutive deltas as one (`second.baseRevision` must be `first.revision`): the agent
 * applies a queue of deltas with one file pass and one route batch. Undefined when they do not
 * chain (the caller applies them one by one, and the second is refused as a gap).
 */
export function mergeDeltas(first: DesiredStateDelta, second: DesiredStateDelta): DesiredStateDelta | undefined {
  if (second.switchId !== first.switchId || second.baseRevision !== first.revision) return undefined;
  const merged: DesiredStateDelta = {
    type: "desired-state-delta",
    switchId: first.switchId,
    baseRevision: first.baseRevision,
    revision: second.revision,
  };
  const serverDevice = second.serverDevice ?? first.serverDevice;
  if (serverDevice !== undefined) merged.serverDevice = serverDevice;
  if (first.server !== undefined || second.server !== undefined) merged.server = { ...first.server, ...second.server };
  const links = mergeChanges(first.links, second.links, (link) => link.peerOffset);
  if (links !== undefined) merged.links = links;
  const hosts = mergeChanges(first.hosts, second.hosts, (host) => host.commonName);
  if (hosts !== undefined) merged.hosts = hosts;
  const routes = mergeChanges(first.routes, second.routes, (route) => route.destination);
  if (routes !== undefined) merged.routes = routes;
  return merged;
}
