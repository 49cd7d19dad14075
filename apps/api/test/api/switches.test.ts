import { afterAll, beforeAll, expect, it } from "vitest";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { type ApiClient, apiClient, networkBody } from "../support/api-client.ts";
import { openTestApp } from "../support/test-app.ts";
import { type DatabaseKind, describeEachDatabase } from "../support/test-database.ts";

describeEachDatabase("switches API", (kind: DatabaseKind) => {
  let app: TypedApp;
  let api: ApiClient;
  beforeAll(async () => {
    app = await openTestApp(kind);
    api = apiClient(app);
  });
  afterAll(() => app.close());

  async function network(overrides: Record<string, unknown> = {}) {
    return (await api.post("/api/networks", networkBody(overrides))).body as { id: string; dataSubnet: string };
  }

  it("places two switches like the classic pair: .1 and .101 with their own pool slices", async () => {
    const net = await network({ dataSubnet: "10.100.100.0/24", backboneSubnet: "10.200.200.0/24" });
    const a = await api.post("/api/switches", {
      networkId: net.id,
      name: "vpnsrvA",
      endpointHost: "a.example.net",
      dataAddress: "10.100.100.1",
      pool: { start: "10.100.100.2", end: "10.100.100.50" },
    });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ endpointPort: 1194, backboneAddress: "10.200.200.1", enabled: true });
    const b = await api.post("/api/switches", {
      networkId: net.id,
      name: "vpnsrvB",
      endpointHost: "198.51.100.7",
      endpointPort: 1195,
      dataAddress: "10.100.100.101",
      pool: { start: "10.100.100.102", end: "10.100.100.150" },
    });
    expect(b.status).toBe(201);
    expect(b.body.backboneAddress).toBe("10.200.200.2");
    const listed = await api.get(`/api/switches?networkId=${net.id}`);
    expect(listed.body.map((s: { name: string }) => s.name)).toEqual(["vpnsrvA", "vpnsrvB"]);
  });

  it("takes any number of switches, allocating addresses it is not given", async () => {
    const net = await network({ dataSubnet: "10.110.0.0/24" });
    const addresses: string[] = [];
    for (let i = 0; i < 5; i++) {
      const created = await api.post("/api/switches", {
        networkId: net.id,
        name: `sw${i}`,
        endpointHost: `sw${i}.example.org`,
      });
      expect(created.status).toBe(201);
      addresses.push(created.body.dataAddress);
    }
    expect(addresses).toEqual(["10.110.0.1", "10.110.0.2", "10.110.0.3", "10.110.0.4", "10.110.0.5"]);
  });

  it.each([
    [{ dataAddress: "10.120.0.200" }, 409, "body.dataAddress is a switch's data address"],
    [{ dataAddress: "10.120.0.20" }, 409, "body.dataAddress is inside the dynamic pool of the switch at 10.120.0.200"],
    [{ dataAddress: "10.120.0.0" }, 400, "body.dataAddress is the network address of 10.120.0.0/24"],
    [{ dataAddress: "10.120.0.255" }, 400, "body.dataAddress is the broadcast address of 10.120.0.0/24"],
    [{ dataAddress: "10.121.0.1" }, 400, "body.dataAddress is outside the data subnet 10.120.0.0/24"],
    [
      { pool: { start: "10.120.0.30", end: "10.120.0.60" } },
      409,
      "body.pool overlaps the dynamic pool of the switch at 10.120.0.200",
    ],
    [{ pool: { start: "10.120.0.90", end: "10.120.0.80" } }, 400, "body.pool must not start after its end"],
    [
      { pool: { start: "10.120.0.150", end: "10.120.0.210" } },
      409,
      "body.pool contains the switch address 10.120.0.200",
    ],
    [
      { dataAddress: "10.120.0.70", pool: { start: "10.120.0.61", end: "10.120.0.80" } },
      400,
      "body.pool must not contain the switch's own data address",
    ],
    [{ backboneAddress: "172.31.0.1" }, 400, "body.backboneAddress is outside the backbone subnet"],
    [{ name: "first" }, 409, "body.name is already the name of another switch in this network"],
    [{ endpointHost: "evil.example;reboot" }, 400, "body.endpointHost must be host name or IPv4 address"],
  ])("refuses %o", async (overrides, status, message) => {
    const net = await network({ dataSubnet: "10.120.0.0/24", backboneSubnet: "172.30.0.0/24" });
    await api.post("/api/switches", {
      networkId: net.id,
      name: "first",
      endpointHost: "first.example",
      dataAddress: "10.120.0.200",
      pool: { start: "10.120.0.10", end: "10.120.0.50" },
    });
    const response = await api.post("/api/switches", {
      networkId: net.id,
      name: "second",
      endpointHost: "second.example",
      ...overrides,
    });
    expect(response.status).toBe(status);
    expect(response.body.message).toContain(message);
    await api.delete(`/api/networks/${net.id}`);
  });

  it("refuses a pool over an existing host, and a switch address a host holds", async () => {
    const net = await network({ dataSubnet: "10.130.0.0/24" });
    await api.post("/api/hosts", { networkId: net.id, commonName: "h1", address: "10.130.0.40" });
    const pool = await api.post("/api/switches", {
      networkId: net.id,
      name: "s",
      endpointHost: "s.example",
      pool: { start: "10.130.0.30", end: "10.130.0.50" },
    });
    expect(pool.status).toBe(409);
    expect(pool.body.message).toBe("body.pool contains the host address 10.130.0.40");
    const taken = await api.post("/api/switches", {
      networkId: net.id,
      name: "s",
      endpointHost: "s.example",
      dataAddress: "10.130.0.40",
    });
    expect(taken.status).toBe(409);
    expect(taken.body.message).toBe("body.dataAddress is already used by another host");
  });

  it("updates a switch, keeping its own addresses valid, and deletes it", async () => {
    const net = await network();
    const created = (await api.post("/api/switches", { networkId: net.id, name: "s", endpointHost: "s.example" })).body;
    const revisionBefore = (await api.get(`/api/networks/${net.id}`)).body.revision;
    const moved = await api.patch(`/api/switches/${created.id}`, {
      pool: { start: created.dataAddress.replace(/\d+$/, "100"), end: created.dataAddress.replace(/\d+$/, "120") },
      enabled: false,
    });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({
      enabled: false,
      dataAddress: created.dataAddress,
      pool: { end: created.dataAddress.replace(/\d+$/, "120") },
    });
    const cleared = await api.patch(`/api/switches/${created.id}`, { pool: null });
    expect(cleared.body.pool).toBeNull();
    expect((await api.get(`/api/networks/${net.id}`)).body.revision).toBe(revisionBefore + 2);
    expect((await api.delete(`/api/switches/${created.id}`)).status).toBe(204);
    expect((await api.get(`/api/switches/${created.id}`)).status).toBe(404);
  });

  it("refuses a switch for a network that does not exist", async () => {
    const response = await api.post("/api/switches", {
      networkId: "00000000-0000-4000-8000-000000000000",
      name: "s",
      endpointHost: "s.example",
    });
    expect(response.status).toBe(400);
    expect(response.body.message).toBe("body.networkId is not an existing network");
  });
});
