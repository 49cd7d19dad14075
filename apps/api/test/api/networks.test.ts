import { afterAll, beforeAll, expect, it } from "vitest";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { type ApiClient, apiClient, networkBody } from "../support/api-client.ts";
import { openTestApp } from "../support/test-app.ts";
import { type DatabaseKind, describeEachDatabase } from "../support/test-database.ts";

describeEachDatabase("networks API", (kind: DatabaseKind) => {
  let app: TypedApp;
  let api: ApiClient;
  beforeAll(async () => {
    app = await openTestApp(kind);
    api = apiClient(app);
  });
  afterAll(() => app.close());

  it("creates a network with fast-failover defaults and reads it back", async () => {
    const body = networkBody({ dataSubnet: "10.100.0.0/24", backboneSubnet: "10.200.0.0/24" });
    const created = await api.post("/api/networks", body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: body.name,
      dataSubnet: "10.100.0.0/24",
      proto: "udp",
      port: 1194,
      keepaliveInterval: 2,
      keepaliveTimeout: 10,
      dataCiphers: ["AES-256-GCM", "AES-128-GCM", "CHACHA20-POLY1305"],
      revision: 1, // its first CRL
    });
    const fetched = await api.get(`/api/networks/${created.body.id}`);
    expect(fetched.body).toEqual(created.body);
    expect((await api.get("/api/networks")).body.map((n: { id: string }) => n.id)).toContain(created.body.id);
  });

  it.each(["10.50.0.0/16", "10.51.0.0/20", "10.52.0.0/24", "10.53.0.0/29"])(
    "accepts a %s data subnet",
    async (cidr) => {
      const response = await api.post("/api/networks", networkBody({ dataSubnet: cidr }));
      expect(response.status).toBe(201);
    },
  );

  it.each([
    [{ dataSubnet: "10.60.0.0/15" }, "body.dataSubnet must have a prefix length from /16 to /29 (got /15)"],
    [{ dataSubnet: "10.61.0.0/30" }, "body.dataSubnet must have a prefix length from /16 to /29 (got /30)"],
    [{ dataSubnet: "10.62.0.5/24" }, "body.dataSubnet must start at its network address (10.62.0.0/24), not 10.62.0.5"],
    [
      { dataSubnet: "10.63.0.0/24", backboneSubnet: "10.63.0.128/25" },
      "body.backboneSubnet must not overlap the data subnet 10.63.0.0/24",
    ],
    [{ keepaliveInterval: 10, keepaliveTimeout: 15 }, "body.keepaliveTimeout must be at least twice keepaliveInterval"],
    [{ dataCiphers: ["BF-CBC"] }, "body.dataCiphers.0"],
    [{ name: "../etc" }, "body.name must be letters, digits"],
    [{ port: "1194" }, "body.port must be a whole number"],
  ])("refuses %o with a 400 naming the field", async (overrides, message) => {
    const response = await api.post("/api/networks", networkBody(overrides));
    expect(response.status).toBe(400);
    expect(response.body.message).toContain(message);
  });

  it("refuses a duplicate name and overlapping subnets with 409", async () => {
    const first = (
      await api.post("/api/networks", networkBody({ dataSubnet: "10.70.0.0/24", backboneSubnet: "10.71.0.0/24" }))
    ).body;
    const sameName = await api.post("/api/networks", networkBody({ name: first.name }));
    expect(sameName.status).toBe(409);
    expect(sameName.body.message).toContain("body.name is already the name of network");
    const overlapping = await api.post("/api/networks", networkBody({ dataSubnet: "10.70.0.0/16" }));
    expect(overlapping.status).toBe(409);
    expect(overlapping.body.message).toBe(`body.dataSubnet overlaps 10.70.0.0/24 of network ${first.name}`);
    const backboneOverlap = await api.post("/api/networks", networkBody({ backboneSubnet: "10.71.0.0/25" }));
    expect(backboneOverlap.status).toBe(409);
  });

  it("changes settings, bumps the revision, and refuses readdressing once it has hosts", async () => {
    const network = (await api.post("/api/networks", networkBody())).body;
    const changed = await api.patch(`/api/networks/${network.id}`, { port: 1195, pushRoutes: ["192.168.50.0/24"] });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ port: 1195, pushRoutes: ["192.168.50.0/24"], revision: network.revision + 1 });
    await api.post("/api/hosts", { networkId: network.id, commonName: "web-1" });
    const readdress = await api.patch(`/api/networks/${network.id}`, { dataSubnet: "10.99.0.0/24" });
    expect(readdress.status).toBe(409);
    expect(readdress.body.message).toBe("body.dataSubnet cannot change while the network has 0 switches and 1 hosts");
  });

  it("deletes a network with everything in it", async () => {
    const network = (await api.post("/api/networks", networkBody())).body;
    const host = (await api.post("/api/hosts", { networkId: network.id, commonName: "gone" })).body;
    expect((await api.delete(`/api/networks/${network.id}`)).status).toBe(204);
    expect((await api.get(`/api/networks/${network.id}`)).status).toBe(404);
    expect((await api.get(`/api/hosts/${host.id}`)).status).toBe(404);
    expect((await api.delete(`/api/networks/${network.id}`)).status).toBe(404);
  });
});
