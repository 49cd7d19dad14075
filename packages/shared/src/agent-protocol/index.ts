export * from "./ack.ts";
export * from "./close-codes.ts";
export * from "./commands.ts";
export {
  DeviceNameSchema,
  RealAddressSchema,
  ReportedCommonNameSchema,
  RevisionSchema,
  type Route,
  RouteSchema,
  SwitchIdSchema,
} from "./common.ts";
export * from "./delta.ts";
export * from "./desired-state.ts";
export * from "./link-state.ts";
export * from "./messages.ts";
export * from "./route-report.ts";
export * from "./sessions.ts";
export * from "./version.ts";
