import type { RenderHost, RenderNetwork, RenderSwitch } from "../../src/render/index.ts";

/** Inputs shared by the golden, injection and OpenVPN tests. */

export interface Fixture {
  readonly name: string;
  readonly network: RenderNetwork;
  readonly switches: readonly RenderSwitch[];
  readonly hosts: readonly RenderHost[];
}

/** Two switches on one /24 over UDP, as in the lab notes. */
export const twoSwitch: Fixture = {
  name: "two-switch-24",
  network: {
    name: "office",
    dataSubnet: "10.100.100.0/24",
    backboneSubnet: "10.200.200.0/24",
    proto: "udp",
    port: 1194,
    keepaliveInterval: 2,
    keepaliveTimeout: 10,
    dataCiphers: ["AES-256-GCM", "AES-128-GCM", "CHACHA20-POLY1305"],
    pushRoutes: ["192.168.10.0/24"],
    dnsServers: ["10.100.100.250"],
    dnsDomain: "office.example",
  },
  switches: [
    {
      id: "sw-a",
      name: "a-frankfurt",
      endpointHost: "vpn-a.example.net",
      endpointPort: 1194,
      dataAddress: "10.100.100.1",
      poolStart: "10.100.100.2",
      poolEnd: "10.100.100.100",
      backboneAddress: "10.200.200.1",
      enabled: true,
    },
    {
      id: "sw-b",
      name: "b-amsterdam",
      endpointHost: "198.51.100.20",
      endpointPort: 11194,
      dataAddress: "10.100.100.101",
      poolStart: "10.100.100.102",
      poolEnd: "10.100.100.200",
      backboneAddress: "10.200.200.2",
      enabled: true,
    },
  ],
  hosts: [
    {
      commonName: "web-1",
      address: "10.100.100.210",
      subnets: ["192.168.10.0/24"],
      pushRoutes: ["172.16.0.0/16"],
      enabled: true,
    },
    { commonName: "db-1.office", address: "10.100.100.211", subnets: [], pushRoutes: [], enabled: true },
    { commonName: "old_laptop", address: "10.100.100.212", subnets: [], pushRoutes: [], enabled: false },
  ],
};

/** Three switches at three providers sharing a /22 over TCP; one of them is switched off. */
export const threeSwitch: Fixture = {
  name: "three-switch-22",
  network: {
    name: "fleet-prod",
    dataSubnet: "10.64.0.0/22",
    backboneSubnet: "172.31.255.0/28",
    proto: "tcp",
    port: 443,
    keepaliveInterval: 5,
    keepaliveTimeout: 30,
    dataCiphers: ["CHACHA20-POLY1305", "AES-256-GCM"],
    pushRoutes: ["10.80.0.0/16", "10.81.4.0/22"],
    dnsServers: ["10.64.0.1", "10.64.1.1"],
  },
  switches: [
    {
      id: "0b6f6f1e-2b1a-4a57-9f0e-1c2d3e4f5a61",
      name: "hetzner",
      endpointHost: "hel1.vpn.example.org",
      endpointPort: 443,
      dataAddress: "10.64.0.1",
      poolStart: "10.64.0.2",
      poolEnd: "10.64.0.254",
      backboneAddress: "172.31.255.1",
      enabled: true,
    },
    {
      id: "5d0c1b2a-3e4f-4a5b-8c7d-9e0f1a2b3c4d",
      name: "ovh",
      endpointHost: "gra.vpn.example.org",
      endpointPort: 443,
      dataAddress: "10.64.1.1",
      poolStart: "10.64.1.2",
      poolEnd: "10.64.1.254",
      backboneAddress: "172.31.255.2",
      enabled: true,
    },
    {
      id: "9a8b7c6d-5e4f-4321-8765-0fedcba98765",
      name: "aws",
      endpointHost: "203.0.113.7",
      endpointPort: 8443,
      dataAddress: "10.64.2.1",
      poolStart: "10.64.2.2",
      poolEnd: "10.64.2.254",
      backboneAddress: "172.31.255.3",
      enabled: false,
    },
  ],
  hosts: [
    {
      commonName: "edge-router-7",
      address: "10.64.3.10",
      subnets: ["10.81.4.0/24", "192.168.77.0/24"],
      pushRoutes: ["10.90.0.0/16", "10.91.1.0/24"],
      enabled: true,
    },
    { commonName: "ci.build-01", address: "10.64.3.11", subnets: [], pushRoutes: ["10.90.0.0/16"], enabled: true },
  ],
};

export const fixtures = [twoSwitch, threeSwitch] as const;

/** Well-formed PEM text that is not a real certificate or key: the renderers never decode it. */
export function fakePem(label: string, seed: string): string {
  const body = Buffer.from(`switchboard test ${label} ${seed} `.repeat(6)).toString("base64");
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

export function fakeTlsCryptKey(seed: number): string {
  const rows = Array.from({ length: 16 }, (_, row) =>
    Array.from({ length: 32 }, (_, col) => ((seed + row * 7 + col * 3) % 16).toString(16)).join(""),
  );
  return `#\n# 2048 bit OpenVPN static key\n#\n-----BEGIN OpenVPN Static key V1-----\n${rows.join("\n")}\n-----END OpenVPN Static key V1-----\n`;
}
