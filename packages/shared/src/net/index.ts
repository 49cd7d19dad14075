export * from "./cidr.ts";
export * from "./ipv4.ts";
export * from "./special-use.ts";
