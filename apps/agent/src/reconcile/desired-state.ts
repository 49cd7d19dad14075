import type { DesiredState, DesiredStateDelta } from "@switchboard/shared";

/**
 * The agent's copy of its desired state: the last full snapshot with every delta since applied.
 * Pure, so the revision rules are tested without a socket.
 */
export type DeltaResult =
  | { readonly ok: true; readonly state: DesiredState }
  | { readonly ok: false; readonly reason: "no-base" | "revision-gap" | "switch-mismatch" | "stale" };

export function applyDelta(state: DesiredState | undefined, delta: DesiredStateDelta): DeltaResult {
  if (state === undefined) return { ok: false, reason: "no-base" };
  if (delta.switchId !== state.switchId) return { ok: false, reason: "switch-mismatch" };
  if (delta.revision <= state.revision) return { ok: false, reason: "stale" };
  if (delta.baseRevision !== state.revision) return { ok: false, reason: "revision-gap" };

  const links = new Map(state.links.map((link) => [link.peerOffset, link]));
  for (const offset of delta.links?.remove ?? []) links.delete(offset);
  for (const link of delta.links?.upsert ?? []) links.set(link.peerOffset, link);

  const hosts = new Map(state.hosts.map((host) => [host.commonName, host]));
  for (const cn of delta.hosts?.remove ?? []) hosts.delete(cn);
  for (const host of delta.hosts?.upsert ?? []) hosts.set(host.commonName, host);

  const routes = new Map(state.routes.map((route) => [route.destination, route]));
  for (const destination of delta.routes?.remove ?? []) routes.delete(destination);
  for (const route of delta.routes?.upsert ?? []) routes.set(route.destination, route);

  return {
    ok: true,
    state: {
      ...state,
      revision: delta.revision,
      serverDevice: delta.serverDevice ?? state.serverDevice,
      server: { ...state.server, ...delta.server },
      links: [...links.values()].sort((a, b) => a.peerOffset - b.peerOffset),
      hosts: [...hosts.values()],
      routes: [...routes.values()],
      routeCount: routes.size,
    },
  };
}

/** A snapshot is verified when it carries exactly the routes it announces (nothing truncated on the way). */
export function isVerifiedSnapshot(state: DesiredState): boolean {
  const destinations = new Set(state.routes.map((route) => route.destination));
  return state.routes.length === state.routeCount && destinations.size === state.routes.length;
}
