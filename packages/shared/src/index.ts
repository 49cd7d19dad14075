export * from "./contracts/errors.ts";
export * from "./contracts/health.ts";
