import type { DesiredState } from "@switchboard/shared";

/** A snapshot is verified when it carries exactly the routes it announces (nothing truncated on the way). */
export function isVerifiedSnapshot(state: DesiredState): boolean {
  const destinations = new Set(state.routes.map((route) => route.destination));
  return state.routes.length === state.routeCount && destinations.size === state.routes.length;
}
