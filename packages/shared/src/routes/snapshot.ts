import type { Route } from "../agent-protocol/common.ts";
import type { RenderHost, RenderNetwork, RenderSwitch } from "../render/model.ts";

/** What the route computation needs of a host: no push routes or ccd text. */
export type RouteHost = Pick<RenderHost, "commonName" | "address" | "subnets" | "enabled">;

/**
 * "Host commonName is connected to switch switchId since connectedAt", as the API's session
 * table holds it. A host may have rows on two switches while it roams or when reports arrive out
 * of order; the computation picks one (newest-session.ts).
 */
export interface RouteSession {
  readonly commonName: string;
  readonly switchId: string;
  /** Epoch milliseconds, or an ISO 8601 date-time string. */
  readonly connectedAt: number | string;
}

export interface RouteSnapshot {
  readonly network: RenderNetwork;
  readonly switches: readonly RenderSwitch[];
  readonly hosts: readonly RouteHost[];
  readonly sessions: readonly RouteSession[];
}

/** Each switch's routes by switch id, sorted by destination address then prefix length. */
export type RouteTable = ReadonlyMap<string, readonly Route[]>;
