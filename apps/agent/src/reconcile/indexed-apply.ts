import { applyDelta, type DeltaResult, type DesiredState, type DesiredStateDelta } from "@switchboard/shared";

/**
 * applyDelta (packages/shared) in O(what the delta names) for the hosts and routes: the shared
 * function rebuilds a Map of every host or route per delta, 40-50 ms at 50,000 here. This keeps
 * each key's position in the held state's arrays; a delta copies the array (a flat copy, well
 * under a millisecond) and patches the named entries in place, a removal moving the last entry
 * into the hole. Same checks and the same result as applyDelta up to order, which carries no
 * meaning (test/reconcile/indexed-apply.test.ts compares the two over random deltas). The
 * indexes change only on `commit`, so a candidate state that is refused leaves them as they were.
 */
export class IndexedApply {
  private hosts = new Map<string, number>();
  private routes = new Map<string, number>();

  /** Index `state` (a snapshot or a restore). */
  reset(state: DesiredState): void {
    this.hosts = new Map(state.hosts.map((host, i) => [host.commonName, i]));
    this.routes = new Map(state.routes.map((route, i) => [route.destination, i]));
  }

  /** The candidate state and the index moves to commit if the agent takes it. */
  apply(state: DesiredState | undefined, delta: DesiredStateDelta): { result: DeltaResult; commit: () => void } {
    // The shared function for the checks and the small parts (server, links, revision).
    const { hosts: _hosts, routes: _routes, ...smallParts } = delta;
    const result = applyDelta(state, smallParts);
    if (!result.ok || state === undefined) return { result, commit: () => undefined };
    const hosts = patch(state.hosts, this.hosts, (host) => host.commonName, delta.hosts);
    const routes = patch(state.routes, this.routes, (route) => route.destination, delta.routes);
    return {
      result: {
        ok: true,
        state: { ...result.state, hosts: hosts.items, routes: routes.items, routeCount: routes.items.length },
      },
      commit: () => {
        hosts.commit();
        routes.commit();
      },
    };
  }
}

function patch<T>(
  items: readonly T[],
  index: Map<string, number>,
  key: (item: T) => string,
  change: { readonly upsert: readonly T[]; readonly remove: readonly string[] } | undefined,
): { items: T[]; commit: () => void } {
  if (change === undefined) return { items: items as T[], commit: () => undefined };
  const out = items.slice();
  const moved = new Map<string, number | undefined>();
  const at = (k: string) => (moved.has(k) ? moved.get(k) : index.get(k));
  for (const k of change.remove) {
    const i = at(k);
    if (i === undefined) continue;
    const last = out.length - 1;
    if (i !== last) {
      const tail = out[last] as T;
      out[i] = tail;
      moved.set(key(tail), i);
    }
    out.pop();
    moved.set(k, undefined);
  }
  for (const item of change.upsert) {
    const k = key(item);
    const i = at(k);
    if (i === undefined) {
      moved.set(k, out.length);
      out.push(item);
    } else {
      out[i] = item;
    }
  }
  return {
    items: out,
    commit: () => {
      for (const [k, i] of moved) {
        if (i === undefined) index.delete(k);
        else index.set(k, i);
      }
    },
  };
}
