import { afterAll, beforeAll, expect, it } from "vitest";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { type ApiClient, apiClient } from "../support/api-client.ts";
import { openTestApp } from "../support/test-app.ts";
import { type DatabaseKind, describeEachDatabase } from "../support/test-database.ts";

type Case = [label: string, method: "POST" | "PATCH" | "GET", path: string, body: unknown, expectedField: string];

const long = (n: number) => "a".repeat(n);

/** Each entry must be answered 4xx with a message naming `expectedField`, and write nothing. */
function hostileCases(networkId: string, hostId: string, switchId: string): Case[] {
  const host = (overrides: Record<string, unknown>): unknown => ({ networkId, commonName: "hostile", ...overrides });
  const sw = (overrides: Record<string, unknown>): unknown => ({
    networkId,
    name: "hostile-sw",
    endpointHost: "sw.example",
    ...overrides,
  });
  const net = (overrides: Record<string, unknown>): unknown => ({
    name: "hostile-net",
    dataSubnet: "10.240.0.0/24",
    backboneSubnet: "10.241.0.0/24",
    ...overrides,
  });
  return [
    // Common names become file names on every switch and lines in config files.
    ["cn path traversal", "POST", "/api/hosts", host({ commonName: "../../etc/passwd" }), "body.commonName"],
    ["cn dot-dot", "POST", "/api/hosts", host({ commonName: ".." }), "body.commonName"],
    ["cn single dot", "POST", "/api/hosts", host({ commonName: "." }), "body.commonName"],
    ["cn leading dot", "POST", "/api/hosts", host({ commonName: ".hidden" }), "body.commonName"],
    ["cn leading dash", "POST", "/api/hosts", host({ commonName: "-rf" }), "body.commonName"],
    ["cn slash", "POST", "/api/hosts", host({ commonName: "a/b" }), "body.commonName"],
    ["cn backslash", "POST", "/api/hosts", host({ commonName: "a\\b" }), "body.commonName"],
    ["cn newline", "POST", "/api/hosts", host({ commonName: "a\nifconfig-push 1.2.3.4" }), "body.commonName"],
    ["cn carriage return", "POST", "/api/hosts", host({ commonName: "a\rb" }), "body.commonName"],
    ["cn NUL", "POST", "/api/hosts", host({ commonName: "a\u0000b" }), "body.commonName"],
    ["cn double quote", "POST", "/api/hosts", host({ commonName: 'a"b' }), "body.commonName"],
    ["cn single quote", "POST", "/api/hosts", host({ commonName: "a'b" }), "body.commonName"],
    ["cn space", "POST", "/api/hosts", host({ commonName: "a b" }), "body.commonName"],
    ["cn shell", "POST", "/api/hosts", host({ commonName: "$(reboot)" }), "body.commonName"],
    ["cn backtick", "POST", "/api/hosts", host({ commonName: "`id`" }), "body.commonName"],
    ["cn semicolon", "POST", "/api/hosts", host({ commonName: "a;b" }), "body.commonName"],
    ["cn tag injection", "POST", "/api/hosts", host({ commonName: "</ca>" }), "body.commonName"],
    ["cn colon", "POST", "/api/hosts", host({ commonName: "1.2.3.4:1194" }), "body.commonName"],
    ["cn comma", "POST", "/api/hosts", host({ commonName: "a,b" }), "body.commonName"],
    ["cn unicode", "POST", "/api/hosts", host({ commonName: "hôte" }), "body.commonName"],
    ["cn DEFAULT", "POST", "/api/hosts", host({ commonName: "DEFAULT" }), "body.commonName"],
    ["cn default lowercase", "POST", "/api/hosts", host({ commonName: "default" }), "body.commonName"],
    ["cn empty", "POST", "/api/hosts", host({ commonName: "" }), "body.commonName"],
    ["cn 65 chars", "POST", "/api/hosts", host({ commonName: long(65) }), "body.commonName"],
    ["cn number", "POST", "/api/hosts", host({ commonName: 42 }), "body.commonName"],
    ["cn missing", "POST", "/api/hosts", { networkId }, "body.commonName"],
    // Addresses and routes.
    ["address with mask", "POST", "/api/hosts", host({ address: "10.230.0.30/24" }), "body.address"],
    ["address octal", "POST", "/api/hosts", host({ address: "10.230.0.030" }), "body.address"],
    ["address 256", "POST", "/api/hosts", host({ address: "10.230.0.256" }), "body.address"],
    ["address newline", "POST", "/api/hosts", host({ address: "10.230.0.30\npush route" }), "body.address"],
    ["address ipv6", "POST", "/api/hosts", host({ address: "::1" }), "body.address"],
    ["address outside subnet", "POST", "/api/hosts", host({ address: "192.168.1.1" }), "body.address"],
    ["address broadcast", "POST", "/api/hosts", host({ address: "10.230.0.255" }), "body.address"],
    ["address of switch", "POST", "/api/hosts", host({ address: "10.230.0.1" }), "body.address"],
    ["address in pool", "POST", "/api/hosts", host({ address: "10.230.0.10" }), "body.address"],
    ["address taken", "POST", "/api/hosts", host({ address: "10.230.0.100" }), "body.address"],
    ["subnet not canonical", "POST", "/api/hosts", host({ subnets: ["192.168.5.1/24"] }), "body.subnets.0"],
    [
      "subnet injection",
      "POST",
      "/api/hosts",
      host({ subnets: ["192.168.5.0/24\niroute 0.0.0.0 0.0.0.0"] }),
      "body.subnets.0",
    ],
    ["subnet overlaps data", "POST", "/api/hosts", host({ subnets: ["10.230.0.0/16"] }), "body.subnets.0"],
    ["subnet default route", "POST", "/api/hosts", host({ subnets: ["0.0.0.0/0"] }), "body.subnets.0"],
    ["push route quote", "POST", "/api/hosts", host({ pushRoutes: ['1.2.3.0/24" "x'] }), "body.pushRoutes.0"],
    ["too many tags", "POST", "/api/hosts", host({ tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }), "body.tags"],
    ["tag uppercase", "POST", "/api/hosts", host({ tags: ["Prod"] }), "body.tags.0"],
    ["tags not array", "POST", "/api/hosts", host({ tags: "prod" }), "body.tags"],
    ["description control char", "POST", "/api/hosts", host({ description: "a\u0007b" }), "body.description"],
    ["description oversized", "POST", "/api/hosts", host({ description: long(501) }), "body.description"],
    ["enabled as string", "POST", "/api/hosts", host({ enabled: "yes" }), "body.enabled"],
    ["unknown field", "POST", "/api/hosts", host({ isAdmin: true }), "body.isAdmin"],
    ["network id not uuid", "POST", "/api/hosts", host({ networkId: "../x" }), "body.networkId"],
    [
      "network id unknown",
      "POST",
      "/api/hosts",
      host({ networkId: "00000000-0000-4000-8000-000000000000" }),
      "body.networkId",
    ],
    ["update cn", "PATCH", `/api/hosts/${hostId}`, { commonName: "renamed" }, "body.commonName"],
    ["update empty", "PATCH", `/api/hosts/${hostId}`, {}, "body"],
    ["host id traversal", "GET", "/api/hosts/..%2F..%2Fetc", undefined, "params.id"],
    // Switches: values that reach `remote` lines and server configs.
    ["endpoint newline", "POST", "/api/switches", sw({ endpointHost: "a.example\nremote evil" }), "body.endpointHost"],
    ["endpoint space", "POST", "/api/switches", sw({ endpointHost: "a.example 443" }), "body.endpointHost"],
    ["endpoint leading dash", "POST", "/api/switches", sw({ endpointHost: "-x.example" }), "body.endpointHost"],
    [
      "endpoint oversized",
      "POST",
      "/api/switches",
      sw({ endpointHost: `${long(63)}.${long(63)}.${long(63)}.${long(63)}.com` }),
      "body.endpointHost",
    ],
    ["endpoint port zero", "POST", "/api/switches", sw({ endpointPort: 0 }), "body.endpointPort"],
    ["endpoint port huge", "POST", "/api/switches", sw({ endpointPort: 70000 }), "body.endpointPort"],
    ["endpoint port float", "POST", "/api/switches", sw({ endpointPort: 1194.5 }), "body.endpointPort"],
    ["switch name traversal", "POST", "/api/switches", sw({ name: "../../x" }), "body.name"],
    ["switch address outside", "POST", "/api/switches", sw({ dataAddress: "10.231.0.1" }), "body.dataAddress"],
    [
      "switch pool overlapping",
      "POST",
      "/api/switches",
      sw({ pool: { start: "10.230.0.15", end: "10.230.0.40" } }),
      "body.pool",
    ],
    [
      "switch pool reversed",
      "POST",
      "/api/switches",
      sw({ pool: { start: "10.230.0.60", end: "10.230.0.50" } }),
      "body.pool",
    ],
    [
      "switch pool extra key",
      "POST",
      "/api/switches",
      sw({ pool: { start: "10.230.0.50", end: "10.230.0.60", size: 3 } }),
      "body.pool.size",
    ],
    ["switch backbone taken", "POST", "/api/switches", sw({ backboneAddress: "10.232.0.1" }), "body.backboneAddress"],
    [
      "switch update name taken",
      "PATCH",
      `/api/switches/${switchId}`,
      { dataAddress: "10.230.0.100" },
      "body.dataAddress",
    ],
    // Networks.
    ["net subnet /8", "POST", "/api/networks", net({ dataSubnet: "10.0.0.0/8" }), "body.dataSubnet"],
    ["net subnet garbage", "POST", "/api/networks", net({ dataSubnet: "ten/24" }), "body.dataSubnet"],
    ["net overlapping", "POST", "/api/networks", net({ dataSubnet: "10.230.0.0/25" }), "body.dataSubnet"],
    ["net backbone overlap", "POST", "/api/networks", net({ backboneSubnet: "10.240.0.0/24" }), "body.backboneSubnet"],
    ["net proto", "POST", "/api/networks", net({ proto: "icmp" }), "body.proto"],
    ["net cipher CBC", "POST", "/api/networks", net({ dataCiphers: ["AES-256-CBC"] }), "body.dataCiphers.0"],
    [
      "net cipher injection",
      "POST",
      "/api/networks",
      net({ dataCiphers: ["AES-256-GCM\nscript-security 3"] }),
      "body.dataCiphers.0",
    ],
    ["net dns domain newline", "POST", "/api/networks", net({ dnsDomain: "corp.example\npush x" }), "body.dnsDomain"],
    ["net dns server name", "POST", "/api/networks", net({ dnsServers: ["dns.example"] }), "body.dnsServers.0"],
    ["net keepalive zero", "POST", "/api/networks", net({ keepaliveInterval: 0 }), "body.keepaliveInterval"],
    ["net port string", "POST", "/api/networks", net({ port: "1194; rm -rf /" }), "body.port"],
    ["net name oversized", "POST", "/api/networks", net({ name: long(65) }), "body.name"],
    ["net body array", "POST", "/api/networks", [net({})], "body"],
    ["list limit huge", "GET", "/api/hosts?limit=100000", undefined, "querystring.limit"],
    ["list sort injection", "GET", "/api/hosts?sort=address;DROP TABLE", undefined, "querystring.sort"],
    ["list network id", "GET", "/api/hosts?networkId=x'--", undefined, "querystring.networkId"],
  ];
}

describeEachDatabase("hostile input", (kind: DatabaseKind) => {
  let app: TypedApp;
  let api: ApiClient;
  let cases: Case[];
  let snapshot: () => Promise<unknown>;

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
    cases = hostileCases(net.id, host.id, sw.id);
    snapshot = async () => [
      (await api.get("/api/networks")).body,
      (await api.get("/api/switches")).body,
      (await api.get("/api/hosts?limit=500")).body,
    ];
  });
  afterAll(() => app.close());

  it("has at least 50 hostile inputs in its table", () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
  });

  it("answers every hostile input with a 4xx naming the field, and writes nothing", async () => {
    const before = await snapshot();
    const failures: string[] = [];
    for (const [label, method, url, body, field] of cases) {
      const response = await api[method === "POST" ? "post" : method === "PATCH" ? "patch" : "get"](url, body as never);
      const ok =
        response.status >= 400 &&
        response.status < 500 &&
        typeof response.body?.message === "string" &&
        response.body.message.includes(field) &&
        typeof response.body.requestId === "string";
      if (!ok) failures.push(`${label}: ${response.status} ${JSON.stringify(response.body)}`);
    }
    expect(failures).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });
});
