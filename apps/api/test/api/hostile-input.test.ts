import { afterAll, beforeAll, expect, it } from "vitest";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { createCa } from "../../src/pki/index.ts";
import { type ApiClient, apiClient } from "../support/api-client.ts";
import { openTestApp } from "../support/test-app.ts";
import { type DatabaseKind, describeEachDatabase } from "../support/test-database.ts";

/** What the cases aim at, made in beforeAll: network 10.230.0.0/24, switch a at .1 (pool .2-.20), host at .100. */
interface Target {
  networkId: string;
  hostId: string;
  switchId: string;
  /** A CA whose validity ended a year ago, for the easy-rsa import. */
  expiredCa: { certPem: string; keyPem: string };
}

/** One hostile request: answered 4xx with a message naming `field`, and writing nothing. */
interface Case {
  method: "POST" | "PATCH" | "GET";
  /** The route as documented, for the test's name. */
  route: string;
  field: string;
  /** What kind of value it is, for the test's name. */
  kind: string;
  url: (t: Target) => string;
  body?: (t: Target) => unknown;
  headers?: Record<string, string>;
}

const long = (n: number) => "a".repeat(n);

const post =
  (route: string, defaults: (t: Target) => Record<string, unknown>) =>
  (field: string, kind: string, overrides: Record<string, unknown>): Case => ({
    method: "POST",
    route,
    field,
    kind,
    url: () => route,
    body: (t) => ({ ...defaults(t), ...overrides }),
  });
const host = post("/api/hosts", (t) => ({ networkId: t.networkId, commonName: "hostile" }));
const sw = post("/api/switches", (t) => ({ networkId: t.networkId, name: "hostile-sw", endpointHost: "sw.example" }));
const net = post("/api/networks", () => ({
  name: "hostile-net",
  dataSubnet: "10.240.0.0/24",
  backboneSubnet: "10.241.0.0/24",
}));
const patchNetwork = (field: string, kind: string, body: Record<string, unknown>): Case => ({
  method: "PATCH",
  route: "/api/networks/:id",
  field,
  kind,
  url: (t) => `/api/networks/${t.networkId}`,
  body: () => body,
});
const query = (field: string, kind: string, search: string): Case => ({
  method: "GET",
  route: "/api/hosts",
  field,
  kind,
  url: () => `/api/hosts?${search}`,
});

const cases: Case[] = [
  // Common names become file names on every switch and lines in config files.
  host("body.commonName", "path traversal", { commonName: "../../etc/passwd" }),
  host("body.commonName", "dot-dot", { commonName: ".." }),
  host("body.commonName", "single dot", { commonName: "." }),
  host("body.commonName", "leading dot", { commonName: ".hidden" }),
  host("body.commonName", "leading dash", { commonName: "-rf" }),
  host("body.commonName", "slash", { commonName: "a/b" }),
  host("body.commonName", "backslash", { commonName: "a\\b" }),
  host("body.commonName", "newline with a config line", { commonName: "a\nifconfig-push 1.2.3.4" }),
  host("body.commonName", "carriage return", { commonName: "a\rb" }),
  host("body.commonName", "NUL", { commonName: "a\u0000b" }),
  host("body.commonName", "double quote", { commonName: 'a"b' }),
  host("body.commonName", "single quote", { commonName: "a'b" }),
  host("body.commonName", "space", { commonName: "a b" }),
  host("body.commonName", "shell substitution", { commonName: "$(reboot)" }),
  host("body.commonName", "backticks", { commonName: "`id`" }),
  host("body.commonName", "semicolon", { commonName: "a;b" }),
  host("body.commonName", "inline-block tag", { commonName: "</ca>" }),
  host("body.commonName", "colon", { commonName: "1.2.3.4:1194" }),
  host("body.commonName", "comma", { commonName: "a,b" }),
  host("body.commonName", "non-ASCII letter", { commonName: "hôte" }),
  host("body.commonName", "OpenVPN's DEFAULT file name", { commonName: "DEFAULT" }),
  host("body.commonName", "default in lower case", { commonName: "default" }),
  host("body.commonName", "empty string", { commonName: "" }),
  host("body.commonName", "65 characters", { commonName: long(65) }),
  host("body.commonName", "number", { commonName: 42 }),
  { ...host("body.commonName", "missing", {}), body: (t) => ({ networkId: t.networkId }) },
  // Addresses and routes.
  host("body.address", "address with a prefix length", { address: "10.230.0.30/24" }),
  host("body.address", "octal octet", { address: "10.230.0.030" }),
  host("body.address", "octet 256", { address: "10.230.0.256" }),
  host("body.address", "newline with a push line", { address: "10.230.0.30\npush route" }),
  host("body.address", "IPv6 address", { address: "::1" }),
  host("body.address", "address outside the data subnet", { address: "192.168.1.1" }),
  host("body.address", "broadcast address", { address: "10.230.0.255" }),
  host("body.address", "a switch's address", { address: "10.230.0.1" }),
  host("body.address", "address in a switch's pool", { address: "10.230.0.10" }),
  host("body.address", "another host's address", { address: "10.230.0.100" }),
  host("body.subnets.0", "subnet with host bits set", { subnets: ["192.168.5.1/24"] }),
  host("body.subnets.0", "newline with an iroute line", { subnets: ["192.168.5.0/24\niroute 0.0.0.0 0.0.0.0"] }),
  host("body.subnets.0", "subnet overlapping the data subnet", { subnets: ["10.230.0.0/16"] }),
  host("body.subnets.0", "default route", { subnets: ["0.0.0.0/0"] }),
  host("body.pushRoutes.0", "quote breaking out of the push line", { pushRoutes: ['1.2.3.0/24" "x'] }),
  host("body.tags", "33 tags", { tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }),
  host("body.tags.0", "upper-case tag", { tags: ["Prod"] }),
  host("body.tags", "string instead of a list", { tags: "prod" }),
  host("body.description", "control character", { description: "a\u0007b" }),
  host("body.description", "501 characters", { description: long(501) }),
  host("body.enabled", "string instead of a boolean", { enabled: "yes" }),
  host("body.isAdmin", "unknown field", { isAdmin: true }),
  host("body.networkId", "path instead of a uuid", { networkId: "../x" }),
  host("body.networkId", "unknown network", { networkId: "00000000-0000-4000-8000-000000000000" }),
  {
    method: "PATCH",
    route: "/api/hosts/:id",
    field: "body.commonName",
    kind: "rename",
    url: (t) => `/api/hosts/${t.hostId}`,
    body: () => ({ commonName: "renamed" }),
  },
  {
    method: "PATCH",
    route: "/api/hosts/:id",
    field: "body",
    kind: "empty object",
    url: (t) => `/api/hosts/${t.hostId}`,
    body: () => ({}),
  },
  {
    method: "GET",
    route: "/api/hosts/:id",
    field: "params.id",
    kind: "encoded path traversal",
    url: () => "/api/hosts/..%2F..%2Fetc",
  },
  // Switches: values that reach `remote` lines and server configs.
  sw("body.endpointHost", "newline with a remote line", { endpointHost: "a.example\nremote evil" }),
  sw("body.endpointHost", "space and a port", { endpointHost: "a.example 443" }),
  sw("body.endpointHost", "leading dash", { endpointHost: "-x.example" }),
  sw("body.endpointHost", "name over 253 characters", {
    endpointHost: `${long(63)}.${long(63)}.${long(63)}.${long(63)}.com`,
  }),
  // 242 characters: valid DNS, but `remote <name> <port>` would pass the 254 characters OpenVPN reads.
  sw("body.endpointHost", "name over 241 characters", {
    endpointHost: `${long(63)}.${long(63)}.${long(63)}.${long(50)}`,
  }),
  sw("body.endpointHost", "an octet over 255", { endpointHost: "300.1.1.1" }),
  sw("body.endpointHost", "three octets", { endpointHost: "1.2.3" }),
  sw("body.endpointHost", "octet 256 in the last place", { endpointHost: "10.100.100.256" }),
  sw("body.endpointHost", "a hexadecimal octet", { endpointHost: "0x0a.100.100.5" }),
  sw("body.endpointHost", "a numeric top-level label", { endpointHost: "vpn.123" }),
  sw("body.endpointPort", "port 0", { endpointPort: 0 }),
  sw("body.endpointPort", "port 70000", { endpointPort: 70000 }),
  sw("body.endpointPort", "fraction", { endpointPort: 1194.5 }),
  sw("body.name", "path traversal", { name: "../../x" }),
  sw("body.dataAddress", "address outside the data subnet", { dataAddress: "10.231.0.1" }),
  sw("body.pool", "pool overlapping another switch's", { pool: { start: "10.230.0.15", end: "10.230.0.40" } }),
  sw("body.pool", "pool ending before it starts", { pool: { start: "10.230.0.60", end: "10.230.0.50" } }),
  sw("body.pool.size", "unknown key in the pool", { pool: { start: "10.230.0.50", end: "10.230.0.60", size: 3 } }),
  sw("body.backboneAddress", "another switch's backbone address", { backboneAddress: "10.232.0.1" }),
  {
    method: "PATCH",
    route: "/api/switches/:id",
    field: "body.dataAddress",
    kind: "a host's address",
    url: (t) => `/api/switches/${t.switchId}`,
    body: () => ({ dataAddress: "10.230.0.100" }),
  },
  // Networks.
  net("body.dataSubnet", "a /8", { dataSubnet: "10.0.0.0/8" }),
  net("body.dataSubnet", "not an address", { dataSubnet: "ten/24" }),
  net("body.dataSubnet", "overlapping another network", { dataSubnet: "10.230.0.0/25" }),
  net("body.backboneSubnet", "overlapping the data subnet", { backboneSubnet: "10.240.0.0/24" }),
  net("body.proto", "unknown protocol", { proto: "icmp" }),
  net("body.dataCiphers.0", "CBC cipher", { dataCiphers: ["AES-256-CBC"] }),
  net("body.dataCiphers.0", "newline with a script line", { dataCiphers: ["AES-256-GCM\nscript-security 3"] }),
  net("body.dnsDomain", "newline with a push line", { dnsDomain: "corp.example\npush x" }),
  net("body.dnsServers.0", "host name instead of an address", { dnsServers: ["dns.example"] }),
  net("body.keepaliveInterval", "zero", { keepaliveInterval: 0 }),
  net("body.port", "string with a shell command", { port: "1194; rm -rf /" }),
  net("body.name", "65 characters", { name: long(65) }),
  // What the renderers refuse must not be stored (issue 13): each of these once made a whole
  // network unrenderable. Backbones clear of the other networks' 10.x subnets.
  net("body.backboneSubnet", "a /8 backbone", { backboneSubnet: "44.0.0.0/8" }),
  net("body.backboneSubnet", "a /12 backbone", { backboneSubnet: "45.16.0.0/12" }),
  net("body.backboneSubnet", "a /15 backbone", { backboneSubnet: "45.34.0.0/15" }),
  net("body.backboneSubnet", "a loopback backbone", { backboneSubnet: "127.0.0.0/24" }),
  net("body.backboneSubnet", "a backbone in 0.0.0.0/8", { backboneSubnet: "0.0.0.0/24" }),
  net("body.dnsDomain", "an address", { dnsDomain: "10.0.0.1" }),
  net("body.dnsDomain", "a numeric last label", { dnsDomain: "vpn.123" }),
  net("body.dnsServers.0", "a loopback resolver", { dnsServers: ["127.0.0.53"] }),
  net("body.dnsServers.0", "a multicast resolver", { dnsServers: ["224.0.0.251"] }),
  net("body.dnsServers.0", "a link-local resolver", { dnsServers: ["169.254.169.254"] }),
  net("body.dnsServers.0", "the limited broadcast address", { dnsServers: ["255.255.255.255"] }),
  net("body.pushRoutes.0", "a loopback route", { pushRoutes: ["127.0.0.0/8"] }),
  net("body.pushRoutes.0", "a multicast route", { pushRoutes: ["224.0.0.0/4"] }),
  net("body.pushRoutes.0", "a link-local route", { pushRoutes: ["169.254.0.0/16"] }),
  net("body.pushRoutes.0", "a route to the limited broadcast address", { pushRoutes: ["255.255.255.255/32"] }),
  patchNetwork("body.port", "a port that puts a backbone port past 65535", { port: 65535 }),
  patchNetwork("body.backboneSubnet", "a backbone change while it has a switch", { backboneSubnet: "10.233.0.0/24" }),
  {
    method: "POST",
    route: "/api/networks/:id/pki/import",
    field: "body.caCert",
    kind: "an expired CA",
    url: (t) => `/api/networks/${t.networkId}/pki/import`,
    body: (t) => ({ caCert: t.expiredCa.certPem, caKey: t.expiredCa.keyPem, index: "", issued: [] }),
  },
  {
    method: "POST",
    route: "/api/hosts/import",
    field: "body.hosts.0.description",
    kind: "a CSV cell too long to read",
    url: (t) => `/api/hosts/import?networkId=${t.networkId}`,
    body: () => `commonName,description\ncsv-1,${long(12_000)}\n`,
    headers: { "content-type": "text/csv" },
  },
  {
    ...net("body", "list instead of an object", {}),
    body: () => [{ name: "hostile-net", dataSubnet: "10.240.0.0/24", backboneSubnet: "10.241.0.0/24" }],
  },
  query("querystring.limit", "a limit of 100000", "limit=100000"),
  query("querystring.sort", "SQL after the column", "sort=address;DROP TABLE"),
  query("querystring.networkId", "quote and comment", "networkId=x'--"),
];

describeEachDatabase("hostile input", (kind: DatabaseKind) => {
  let app: TypedApp;
  let api: ApiClient;
  let target: Target;
  const snapshot = async () => [
    (await api.get("/api/networks")).body,
    (await api.get("/api/switches")).body,
    (await api.get("/api/hosts?limit=500")).body,
    (await api.get(`/api/networks/${target.networkId}/pki`)).body,
  ];

  beforeAll(async () => {
    app = await openTestApp(kind);
    api = apiClient(app);
    const net = (
      await api.post("/api/networks", { name: "target", dataSubnet: "10.230.0.0/24", backboneSubnet: "10.232.0.0/24" })
    ).body;
    const sw = (
      await api.post("/api/switches", {
        networkId: net.id,
        name: "a",
        endpointHost: "a.example",
        dataAddress: "10.230.0.1",
        pool: { start: "10.230.0.2", end: "10.230.0.20" },
      })
    ).body;
    const host = (await api.post("/api/hosts", { networkId: net.id, commonName: "holder", address: "10.230.0.100" }))
      .body;
    const expiredCa = await createCa({
      commonName: "Expired CA",
      validityDays: 30,
      keyType: "ec-p256",
      now: new Date(Date.now() - 400 * 86_400_000),
    });
    target = { networkId: net.id, hostId: host.id, switchId: sw.id, expiredCa };
  });
  afterAll(() => app.close());

  for (const c of cases) {
    it(`refuses ${c.method} ${c.route} with ${c.field}: ${c.kind}`, async () => {
      const before = await snapshot();
      const url = c.url(target);
      const body = c.body?.(target);
      const response =
        c.method === "POST"
          ? await api.post(url, body, c.headers)
          : c.method === "PATCH"
            ? await api.patch(url, body)
            : await api.get(url);
      expect(response.status, response.text).toBeGreaterThanOrEqual(400);
      expect(response.status, response.text).toBeLessThan(500);
      expect(response.body).toMatchObject({ message: expect.stringContaining(c.field), requestId: expect.any(String) });
      expect(await snapshot()).toEqual(before);
    });
  }
});
