import type {
  DesiredBackboneLink,
  DesiredHost,
  DesiredState,
  DesiredStateDelta,
  Route,
  ServerFiles,
} from "@switchboard/shared";
import { diffRouteList } from "@switchboard/shared";

/**
 * One switch's desired state and the delta between two of them: pure functions, no database or
 * socket. Parts that did not change are the same objects (network-view.ts shares them between
 * switches and between ticks), so an unchanged part costs one reference comparison.
 */

export interface SwitchParts {
  readonly serverDevice: string;
  readonly server: ServerFiles;
  readonly links: readonly DesiredBackboneLink[];
}

export function desiredState(
  switchId: string,
  revision: number,
  parts: SwitchParts,
  hosts: readonly DesiredHost[],
  routes: readonly Route[],
): DesiredState {
  return {
    type: "desired-state",
    switchId,
    revision,
    serverDevice: parts.serverDevice,
    server: parts.server,
    links: parts.links as DesiredBackboneLink[],
    hosts: hosts as DesiredHost[],
    routes: routes as Route[],
    routeCount: routes.length,
  };
}

function sameHost(a: DesiredHost, b: DesiredHost): boolean {
  return (
    a === b ||
    (a.address === b.address &&
      a.clientConfig === b.clientConfig &&
      a.subnets.length === b.subnets.length &&
      a.subnets.every((subnet, i) => subnet === b.subnets[i]))
  );
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
    const before = new Map(previous.links.map((link) => [link.peerOffset, link.config]));
    const upsert = next.links.filter((link) => before.get(link.peerOffset) !== link.config);
    const after = new Set(next.links.map((link) => link.peerOffset));
    const remove = previous.links.map((link) => link.peerOffset).filter((offset) => !after.has(offset));
    if (upsert.length > 0 || remove.length > 0) delta.links = { upsert, remove };
  }

  if (previous.hosts !== next.hosts) {
    const before = new Map(previous.hosts.map((host) => [host.commonName, host]));
    const upsert: DesiredHost[] = [];
    for (const host of next.hosts) {
      const old = before.get(host.commonName);
      if (old === undefined || !sameHost(old, host)) upsert.push(host);
      before.delete(host.commonName);
    }
    const remove = [...before.keys()];
    if (upsert.length > 0 || remove.length > 0) delta.hosts = { upsert, remove };
  }

  if (previous.routes !== next.routes) {
    const { upsert, remove } = diffRouteList(previous.routes, next.routes);
    if (upsert.length > 0 || remove.length > 0) delta.routes = { upsert, remove };
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
