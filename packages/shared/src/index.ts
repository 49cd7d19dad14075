export * from "./contracts/common.ts";
export * from "./contracts/errors.ts";
export * from "./contracts/health.ts";
export * from "./contracts/hosts.ts";
export * from "./contracts/networks.ts";
export * from "./contracts/switches.ts";
export * from "./ipam/index.ts";
