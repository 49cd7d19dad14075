import type { RenderNetwork, RenderSwitch } from "../../src/render/index.ts";
import type { RouteHost, RouteSnapshot } from "../../src/routes/index.ts";

export const network: RenderNetwork = {
  name: "office",
  dataSubnet: "10.100.100.0/24",
  backboneSubnet: "10.200.200.0/24",
  proto: "udp",
  port: 1194,
  keepaliveInterval: 2,
  keepaliveTimeout: 10,
  dataCiphers: ["AES-256-GCM"],
  pushRoutes: [],
  dnsServers: [],
};

const sw = (id: string, n: number, enabled = true): RenderSwitch => ({
  id,
  name: id,
  endpointHost: `vpn-${id}.example.net`,
  endpointPort: 1194,
  dataAddress: `10.100.100.${n}`,
  poolStart: null,
  poolEnd: null,
  backboneAddress: `10.200.200.${n}`,
  enabled,
});

export const swA = sw("sw-a", 1);
export const swB = sw("sw-b", 2);
export const swC = sw("sw-c", 3);
export const swOff = sw("sw-off", 4, false);

const host = (commonName: string, n: number, subnets: string[] = [], enabled = true): RouteHost => ({
  commonName,
  address: `10.100.100.${n}`,
  subnets,
  enabled,
});

export const web = host("web-1", 10, ["192.168.10.0/24"]);
export const db = host("db-1", 11);
export const cache = host("cache-1", 12);
export const retired = host("retired", 13, [], false);

export const T0 = Date.parse("2026-01-01T00:00:00Z");

/** web-1 on A, db-1 on B, cache-1 not connected; three live switches and one switched off. */
export const base: RouteSnapshot = {
  network,
  switches: [swA, swB, swC, swOff],
  hosts: [web, db, cache, retired],
  sessions: [
    { commonName: "web-1", switchId: "sw-a", connectedAt: T0 },
    { commonName: "db-1", switchId: "sw-b", connectedAt: new Date(T0).toISOString() },
  ],
};
