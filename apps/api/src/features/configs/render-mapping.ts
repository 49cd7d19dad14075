import type { RenderHost, RenderNetwork, RenderSwitch } from "@switchboard/shared";
import type { Host, Network, Switch } from "../../generated/prisma/client.ts";

// Database rows to the renderers' inputs. The renderers validate everything again: a value that
// slipped past the API (an old row, a hand edit) still cannot reach a config file.

export const renderNetwork = (row: Network): RenderNetwork => ({
  name: row.name,
  dataSubnet: row.dataSubnet,
  backboneSubnet: row.backboneSubnet,
  proto: row.proto,
  port: row.port,
  keepaliveInterval: row.keepaliveInterval,
  keepaliveTimeout: row.keepaliveTimeout,
  dataCiphers: row.dataCiphers,
  pushRoutes: row.pushRoutes,
  dnsServers: row.dnsServers,
  dnsDomain: row.dnsDomain,
});

export const renderSwitch = (row: Switch): RenderSwitch => ({
  id: row.id,
  name: row.name,
  endpointHost: row.endpointHost,
  endpointPort: row.endpointPort,
  dataAddress: row.dataAddress,
  poolStart: row.poolStart,
  poolEnd: row.poolEnd,
  backboneAddress: row.backboneAddress,
  enabled: row.enabled,
});

export const renderHost = (row: Host): RenderHost => ({
  commonName: row.commonName,
  address: row.address,
  subnets: row.subnets,
  pushRoutes: row.pushRoutes,
  enabled: row.enabled,
});
