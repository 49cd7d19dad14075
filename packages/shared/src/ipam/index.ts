export * from "./address-plan.ts";
export * from "./ipv4.ts";
