export { computeRoutes } from "./compute-routes.ts";
export { applyRouteChange, diffRouteList, diffRoutes, type SwitchRouteChange } from "./diff-routes.ts";
export { newestSessions } from "./newest-session.ts";
export type { RouteHost, RouteSession, RouteSnapshot, RouteTable } from "./snapshot.ts";
