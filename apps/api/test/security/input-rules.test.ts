import { readFileSync } from "node:fs";
import { join } from "node:path";
import { itNeeding } from "@switchboard/testkit/needs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/database.ts";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { createCa } from "../../src/pki/index.ts";
import { type ApiClient, apiClient, networkBody } from "../support/api-client.ts";
import { openssl, scratchDir } from "../support/openssl.ts";
import { openTestAppWithDatabase } from "../support/test-app.ts";

/**
 * Issue 13, "what the API accepts, it can render": values the API stored although a renderer
 * refuses them made a whole network unrenderable (every switch's config answered 409, agents got
 * no desired state, status said nothing). Each test sends one such value and expects a 4xx naming
 * the field, with nothing written; the last ones plant data from before the rules and expect the
 * switch's status to say what cannot render.
 */

type Answer = { status: number; body: { message?: string; id?: string } & Record<string, unknown>; text: string };

function expectRefused(answer: Answer, status: 400 | 409, field: string) {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.body.message).toContain(field);
}

describe("the API refuses what its renderers cannot render", () => {
  let app: TypedApp;
  let db: Database;
  let api: ApiClient;
  const networkNames = async () => (await api.get("/api/networks")).body.map((n: { name: string }) => n.name);

  beforeAll(async () => {
    ({ app, db } = await openTestAppWithDatabase("pglite"));
    api = apiClient(app);
  });
  afterAll(() => app.close());

  async function network(overrides: Record<string, unknown> = {}) {
    const created = await api.post("/api/networks", networkBody(overrides));
    expect(created.status, created.text).toBe(201);
    return created.body as { id: string; name: string; backboneSubnet: string; port: number };
  }

  async function switchIn(networkId: string, overrides: Record<string, unknown> = {}) {
    const created = await api.post("/api/switches", {
      networkId,
      name: `sw-${Math.random().toString(36).slice(2, 8)}`,
      endpointHost: "vpn.example.net",
      ...overrides,
    });
    expect(created.status, created.text).toBe(201);
    return created.body as { id: string; backboneAddress: string };
  }

  describe("backbone subnets", () => {
    // Clear of the data subnets (10.x) and backbones (172.16.x) the other tests' networks use.
    it.each(["44.0.0.0/8", "45.16.0.0/12", "45.34.0.0/15"])(
      "refuses a %s backbone, which no renderer takes",
      async (cidr) => {
        const body = networkBody({ backboneSubnet: cidr });
        expectRefused(await api.post("/api/networks", body), 400, "body.backboneSubnet");
        expect(await networkNames()).not.toContain(body.name);
      },
    );

    it.each(["127.0.0.0/24", "0.0.0.0/24", "169.254.10.0/24", "224.1.0.0/24"])(
      "refuses the special-use backbone %s",
      async (cidr) => {
        const body = networkBody({ backboneSubnet: cidr });
        expectRefused(await api.post("/api/networks", body), 400, "body.backboneSubnet");
        expect(await networkNames()).not.toContain(body.name);
      },
    );

    it("refuses a loopback data subnet", async () => {
      expectRefused(
        await api.post("/api/networks", networkBody({ dataSubnet: "127.1.0.0/24" })),
        400,
        "body.dataSubnet",
      );
    });

    it("names body.backboneSubnet when a backbone change is refused for a network with switches", async () => {
      const net = await network();
      await switchIn(net.id);
      const moved = await api.patch(`/api/networks/${net.id}`, { backboneSubnet: "172.31.250.0/24" });
      expectRefused(moved, 409, "body.backboneSubnet cannot change");
      expect(moved.body.message).not.toContain("body.dataSubnet");
    });
  });

  describe("DNS domain", () => {
    it.each(["10.0.0.1", "vpn.123", "corp.2024", "1.2.3"])(
      "refuses %s, a domain that reads as an address",
      async (domain) => {
        expectRefused(await api.post("/api/networks", networkBody({ dnsDomain: domain })), 400, "body.dnsDomain");
      },
    );

    it("refuses the same on a change, and keeps the stored domain", async () => {
      const net = await network({ dnsDomain: "corp.example" });
      expectRefused(await api.patch(`/api/networks/${net.id}`, { dnsDomain: "corp.42" }), 400, "body.dnsDomain");
      expect((await api.get(`/api/networks/${net.id}`)).body.dnsDomain).toBe("corp.example");
    });
  });

  describe("switch endpoints", () => {
    const bogus = ["300.1.1.1", "1.2.3", "10.100.100.256", "0x0a.100.100.5", "vpn.123", "0.0.0.0", "224.0.0.9"];

    it.each(bogus)("refuses endpointHost %s on a new switch", async (endpointHost) => {
      const net = await network();
      const refused = await api.post("/api/switches", { networkId: net.id, name: "edge", endpointHost });
      expectRefused(refused, 400, "body.endpointHost");
      expect((await api.get(`/api/switches?networkId=${net.id}`)).body).toEqual([]);
    });

    it.each(bogus)("refuses endpointHost %s on a change", async (endpointHost) => {
      const net = await network();
      const sw = await switchIn(net.id);
      expectRefused(await api.patch(`/api/switches/${sw.id}`, { endpointHost }), 400, "body.endpointHost");
      expect((await api.get(`/api/switches/${sw.id}`)).body.endpointHost).toBe("vpn.example.net");
    });

    it.each(["vpn.example.net", "203.0.113.7", "127.0.0.1", "a1.b2"])(
      "accepts endpointHost %s",
      async (endpointHost) => {
        const net = await network();
        await switchIn(net.id, { endpointHost });
      },
    );
  });

  describe("backbone ports (network port + backbone offset)", () => {
    it("refuses a backbone address whose port would pass 65535", async () => {
      const net = await network({ port: 65400 });
      const refused = await api.post("/api/switches", {
        networkId: net.id,
        name: "far",
        endpointHost: "far.example.net",
        backboneAddress: net.backboneSubnet.replace(/0\/24$/, "200"),
      });
      expectRefused(refused, 400, "body.backboneAddress");
      expect(refused.body.message).toContain("65600");
    });

    it("refuses to choose a backbone address when none fits below port 65536", async () => {
      const net = await network({ port: 65535 });
      const refused = await api.post("/api/switches", { networkId: net.id, name: "x", endpointHost: "x.example.net" });
      expectRefused(refused, 409, "body.backboneAddress cannot be chosen");
    });

    it("refuses a port change that would push a switch's backbone port past 65535", async () => {
      const net = await network({ port: 65000 });
      const sw = await switchIn(net.id, { backboneAddress: net.backboneSubnet.replace(/0\/24$/, "100") });
      const raised = await api.patch(`/api/networks/${net.id}`, { port: 65500 });
      expectRefused(raised, 409, "body.port");
      expect(raised.body.message).toContain("65600");
      expect((await api.get(`/api/networks/${net.id}`)).body.port).toBe(65000);
      expect((await api.get(`/api/switches/${sw.id}/config`)).status).toBe(200);
    });
  });

  describe("network DNS servers and pushed routes", () => {
    it.each(["127.0.0.1", "224.0.0.251", "169.254.169.254", "255.255.255.255", "0.0.0.0"])(
      "refuses the DNS server %s",
      async (server) => {
        expectRefused(
          await api.post("/api/networks", networkBody({ dnsServers: ["10.250.0.53", server] })),
          400,
          "body.dnsServers.1",
        );
      },
    );

    it.each(["127.0.0.0/8", "224.0.0.0/4", "169.254.0.0/16", "255.255.255.255/32", "0.0.0.0/8", "192.0.0.0/2"])(
      "refuses the pushed route %s",
      async (route) => {
        expectRefused(await api.post("/api/networks", networkBody({ pushRoutes: [route] })), 400, "body.pushRoutes.0");
      },
    );
  });

  describe("easy-rsa import of a CA that must not sign anything", () => {
    const upload = (caCert: string, caKey: string) => ({ caCert, caKey, index: "", issued: [] });

    it("refuses an expired CA", async () => {
      const net = await network();
      const ca = await createCa({
        commonName: "Old CA",
        validityDays: 30,
        keyType: "ec-p256",
        now: new Date(Date.now() - 400 * 86_400_000),
      });
      const refused = await api.post(`/api/networks/${net.id}/pki/import`, upload(ca.certPem, ca.keyPem));
      expectRefused(refused, 400, "body.caCert has expired");
      expect((await api.get(`/api/networks/${net.id}/pki`)).body.ca.commonName).not.toBe("Old CA");
    });

    itNeeding(["openssl"], "refuses a CA with an RSA-1024 key", async () => {
      const files = scratchDir("sb-weak-ca-");
      try {
        const made = openssl([
          "req",
          "-x509",
          "-newkey",
          "rsa:1024",
          "-nodes",
          "-keyout",
          join(files.dir, "ca.key"),
          "-out",
          join(files.dir, "ca.crt"),
          "-days",
          "30",
          "-subj",
          "/CN=Weak CA",
          "-addext",
          "basicConstraints=critical,CA:TRUE",
          "-addext",
          "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        expect(made.status, made.out).toBe(0);
        const net = await network();
        const read = (name: string) => readFileSync(join(files.dir, name), "utf8");
        const refused = await api.post(`/api/networks/${net.id}/pki/import`, upload(read("ca.crt"), read("ca.key")));
        expectRefused(refused, 400, "body.caKey");
        expect(refused.body.message).toContain("1024 bits");
        expect((await api.get(`/api/networks/${net.id}/pki`)).body.ca.commonName).not.toBe("Weak CA");
      } finally {
        files.cleanup();
      }
    });
  });

  describe("CSV import", () => {
    it("names the column of a cell too long to read", async () => {
      const net = await network();
      const csv = `commonName,description\nweb-1,fine\nweb-2,${"x".repeat(12_000)}\n`;
      const refused = await api.post(`/api/hosts/import?networkId=${net.id}`, csv, { "content-type": "text/csv" });
      expectRefused(refused, 400, "body.hosts.1.description");
      expect((await api.get(`/api/hosts?networkId=${net.id}`)).body.items).toEqual([]);
    });
  });

  describe("data stored before these rules", () => {
    it("shows in the switch's status what cannot render, and nothing when all renders", async () => {
      // Away from the other networks' 172.16.x.0/24 backbones, which the widened one would cover.
      const net = await network({ backboneSubnet: "100.64.0.0/24" });
      const sw = await switchIn(net.id);
      const before = await api.get(`/api/switches/${sw.id}/status`);
      expect(before.status, before.text).toBe(200);
      expect(before.body.renderError).toBeNull();

      await db.prisma.network.update({ where: { id: net.id }, data: { backboneSubnet: "100.64.0.0/12" } });
      const after = await api.get(`/api/switches/${sw.id}/status`);
      expect(after.status, after.text).toBe(200);
      expect(after.body.renderError).toContain("network.backboneSubnet");
      expect(after.body.renderError).toContain("/16 to /30");
    });

    it("names a stored switch endpoint that cannot render in every switch's status", async () => {
      const net = await network();
      const good = await switchIn(net.id);
      const legacy = await switchIn(net.id);
      await db.prisma.switch.update({ where: { id: legacy.id }, data: { endpointHost: "300.1.1.1" } });
      const status = await api.get(`/api/switches/${good.id}/status`);
      expect(status.body.renderError).toContain("endpointHost");
    });

    it("answers a change to another field of such a network with a 409 naming the stored field", async () => {
      const net = await network();
      await db.prisma.network.update({ where: { id: net.id }, data: { dnsDomain: "corp.7" } });
      const changed = await api.patch(`/api/networks/${net.id}`, { description: "renamed" });
      expectRefused(changed, 409, "network.dnsDomain");
      const fixed = await api.patch(`/api/networks/${net.id}`, { description: "renamed", dnsDomain: "corp.example" });
      expect(fixed.status, fixed.text).toBe(200);
    });

    it("keeps computing a network's routes when one stored host cannot render", async () => {
      const net = await network();
      const a = await switchIn(net.id);
      const b = await switchIn(net.id);
      const host = (await api.post("/api/hosts", { networkId: net.id, commonName: "legacy-gw" })).body;
      await db.prisma.host.update({ where: { id: host.id }, data: { subnets: ["0.0.0.0/0"] } });
      const routes = await api.get(`/api/switches/${a.id}/routes`);
      expect(routes.status, routes.text).toBe(200);
      const dataB = (await api.get(`/api/switches/${b.id}`)).body.dataAddress;
      expect(routes.body.desired.map((r: { destination: string }) => r.destination)).toEqual([`${dataB}/32`]);
    });
  });
});
