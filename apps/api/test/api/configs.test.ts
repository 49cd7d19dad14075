import { afterAll, beforeAll, expect, it } from "vitest";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { type ApiClient, apiClient } from "../support/api-client.ts";
import { openTestApp } from "../support/test-app.ts";
import { type DatabaseKind, describeEachDatabase } from "../support/test-database.ts";

describeEachDatabase("rendered configs API", (kind: DatabaseKind) => {
  let app: TypedApp;
  let api: ApiClient;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    app = await openTestApp(kind);
    api = apiClient(app);
    const net = (
      await api.post("/api/networks", {
        name: "office",
        dataSubnet: "10.100.100.0/24",
        backboneSubnet: "10.200.200.0/24",
        pushRoutes: ["192.168.100.0/24"],
      })
    ).body;
    ids.network = net.id;
    for (const [name, last, pool] of [
      ["vpnsrvA", 1, [2, 50]],
      ["vpnsrvB", 101, [102, 150]],
    ] as const) {
      const created = await api.post("/api/switches", {
        networkId: net.id,
        name,
        endpointHost: `${name.toLowerCase()}.example.net`,
        dataAddress: `10.100.100.${last}`,
        pool: { start: `10.100.100.${pool[0]}`, end: `10.100.100.${pool[1]}` },
      });
      ids[name] = created.body.id;
    }
    ids.gw = (
      await api.post("/api/hosts", {
        networkId: net.id,
        commonName: "gw",
        address: "10.100.100.60",
        subnets: ["192.168.7.0/24"],
      })
    ).body.id;
    ids.off = (await api.post("/api/hosts", { networkId: net.id, commonName: "off", enabled: false })).body.id;
  }, 180_000); // a database, a CA and switch certificates: slow on a busy 2-core machine
  afterAll(() => app.close());

  it("renders each switch's server config with its own address and pool in the shared subnet", async () => {
    const response = await api.get(`/api/switches/${ids.vpnsrvB}/config`);
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toContain("text/plain");
    expect(response.text).toContain("\nifconfig 10.100.100.101 255.255.255.0\n");
    expect(response.text).toContain("\nifconfig-pool 10.100.100.102 10.100.100.150 255.255.255.0\n");
    expect(response.text).toContain('\npush "route-gateway 10.100.100.101"\n');
    expect(response.text).toContain('\npush "route 192.168.100.0 255.255.255.0"\n');
    expect(response.text).toContain("\nccd-exclusive\n");
  });

  it("renders a host's client-config file with its static address and iroute", async () => {
    const response = await api.get(`/api/hosts/${ids.gw}/client-config`);
    expect(response.status).toBe(200);
    expect(response.body.fileName).toBe("gw");
    expect(response.body.content).toContain("ifconfig-push 10.100.100.60 255.255.255.0");
    expect(response.body.content).toContain("iroute 192.168.7.0 255.255.255.0");
  });

  it("gives a disabled host no client-config file, so ccd-exclusive keeps it out", async () => {
    const response = await api.get(`/api/hosts/${ids.off}/client-config`);
    expect(response.body).toEqual({ fileName: "off", content: null });
  });

  it("renders this switch's end of the backbone link to each other enabled switch", async () => {
    const response = await api.get(`/api/switches/${ids.vpnsrvA}/backbone`);
    expect(response.status).toBe(200);
    expect(response.body).toHaveLength(1);
    const [link] = response.body;
    expect(link).toMatchObject({ peerId: ids.vpnsrvB, peerName: "vpnsrvB" });
    expect(link.config).toContain("ifconfig 10.200.200.1 10.200.200.2");
    expect(link.config).toContain("remote vpnsrvb.example.net");
    await api.patch(`/api/switches/${ids.vpnsrvB}`, { enabled: false });
    expect((await api.get(`/api/switches/${ids.vpnsrvA}/backbone`)).body).toEqual([]);
    await api.patch(`/api/switches/${ids.vpnsrvB}`, { enabled: true });
  });

  it("answers 404 for unknown switches and hosts", async () => {
    expect((await api.get("/api/switches/00000000-0000-4000-8000-000000000000/config")).status).toBe(404);
    expect((await api.get("/api/hosts/00000000-0000-4000-8000-000000000000/client-config")).status).toBe(404);
  });
});
