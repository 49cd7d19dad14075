import type { DesiredBackboneLink, DesiredHost, DesiredState, Route, ServerFiles } from "@switchboard/shared";

/**
 * One switch's desired state: a pure function, no database or socket. Parts that did not change
 * are the same objects (network-view.ts shares them between switches and between ticks), so the
 * delta between two states (packages/shared agent-protocol/delta.ts) costs one reference
 * comparison per unchanged part.
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
