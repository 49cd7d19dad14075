import type { Route } from "@switchboard/shared";

export type RouteRowState = "applied" | "missing" | "extra" | "different";

export interface RouteRow {
  destination: string;
  desired: Route | undefined;
  applied: Route | undefined;
  state: RouteRowState;
}

/** Desired vs applied routes, one row per destination; `applied` null means no report yet. */
export function diffRoutes(desired: readonly Route[], applied: readonly Route[] | null): RouteRow[] {
  const byDestination = new Map<string, RouteRow>();
  for (const route of desired) {
    byDestination.set(route.destination, {
      destination: route.destination,
      desired: route,
      applied: undefined,
      state: "missing",
    });
  }
  for (const route of applied ?? []) {
    const row = byDestination.get(route.destination);
    if (!row) {
      byDestination.set(route.destination, {
        destination: route.destination,
        desired: undefined,
        applied: route,
        state: "extra",
      });
      continue;
    }
    row.applied = route;
    row.state = row.desired && row.desired.via === route.via && row.desired.dev === route.dev ? "applied" : "different";
  }
  return [...byDestination.values()].sort((a, b) => compareCidr(a.destination, b.destination));
}

function compareCidr(a: string, b: string): number {
  const key = (cidr: string) => {
    const [address = "", length = "0"] = cidr.split("/");
    const value = address.split(".").reduce((sum, octet) => sum * 256 + Number(octet), 0);
    return value * 64 + Number(length);
  };
  return key(a) - key(b);
}
