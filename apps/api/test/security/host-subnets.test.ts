import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.ts";
import type { Database } from "../../src/db/database.ts";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { type ApiClient, apiClient, networkBody } from "../support/api-client.ts";
import { defaultTokens, seedToken, testPki } from "../support/test-app.ts";
import { openTestDatabase } from "../support/test-database.ts";

/**
 * Attacks on what a host may route (issue 13). A host's subnets become kernel routes on every
 * switch of its network: one operator PATCH with 128.0.0.0/1 sent the switches' traffic toward
 * the API, the uplink and each other into one host, and every agent went offline. Each test
 * sends the hostile value through HTTP and checks it is refused by field and rule with nothing
 * written.
 */
const ENDPOINT = "203.0.113.10";
/** As if the API were reached at this address: the Host header is what the client addressed. */
const API_HOST = "198.51.100.7";

describe("a host's subnets and pushed routes cannot cut the switches off", () => {
  let app: TypedApp;
  let db: Database;
  let admin: ApiClient;
  let operator: ApiClient;

  beforeAll(async () => {
    db = await openTestDatabase("pglite");
    app = await buildApp({ db, pki: testPki(), closeDatabaseOnClose: true });
    defaultTokens.set(app, await seedToken(db, "admin"));
    admin = apiClient(app);
    operator = apiClient(app, await seedToken(db, "operator"));
  }, 180_000);
  afterAll(() => app.close());

  let networks = 0;
  /** A network (data 10.200.N.0/24, backbone 10.201.N.0/24) with a switch whose endpoint is an address, and one host. */
  async function network() {
    networks += 1;
    const net = await admin.post(
      "/api/networks",
      networkBody({ dataSubnet: `10.200.${networks}.0/24`, backboneSubnet: `10.201.${networks}.0/24` }),
    );
    expect(net.status, net.text).toBe(201);
    const sw = await admin.post("/api/switches", {
      networkId: net.body.id,
      name: "a",
      endpointHost: ENDPOINT,
      dataAddress: `10.200.${networks}.1`,
    });
    expect(sw.status, sw.text).toBe(201);
    const host = await operator.post("/api/hosts", {
      networkId: net.body.id,
      commonName: "office-gw",
      subnets: ["192.168.10.0/24"],
    });
    expect(host.status, host.text).toBe(201);
    return { networkId: net.body.id as string, hostId: host.body.id as string };
  }

  /** The host and its network's revision, to show a refused request wrote nothing. */
  async function snapshot(target: { networkId: string; hostId: string }) {
    const host = (await admin.get(`/api/hosts/${target.hostId}`)).body;
    const revision = (await admin.get(`/api/networks/${target.networkId}`)).body.revision;
    return { subnets: host.subnets, pushRoutes: host.pushRoutes, revision };
  }

  async function refusedPatch(
    client: ApiClient,
    body: Record<string, unknown>,
    expected: { status: number; message: string | RegExp },
  ) {
    const target = await network();
    const before = await snapshot(target);
    const response = await client.patch(`/api/hosts/${target.hostId}`, body);
    expect(response.status, response.text).toBe(expected.status);
    expect(response.body.message).toMatch(expected.message);
    expect(await snapshot(target)).toEqual(before);
  }

  it("refuses an operator's PATCH routing 128.0.0.0/1 behind a host (the PATCH that took every agent offline)", async () => {
    await refusedPatch(
      operator,
      { subnets: ["128.0.0.0/1"] },
      { status: 400, message: /^body\.subnets\.0 must be \/8 or longer \(got \/1\)/ },
    );
  });

  it("refuses the same /1 from an admin: the /8 floor holds for everyone", async () => {
    await refusedPatch(
      admin,
      { subnets: ["192.168.20.0/24", "0.0.0.0/1"] },
      { status: 400, message: /^body\.subnets\.1 must be \/8 or longer \(got \/1\)/ },
    );
  });

  it("refuses a subnet that covers a switch's endpoint", async () => {
    await refusedPatch(
      admin,
      { subnets: ["203.0.113.0/24"] },
      {
        status: 409,
        message: `body.subnets.0 covers ${ENDPOINT}, the endpoint of switch a: the switches would route their own links into this host`,
      },
    );
  });

  it("refuses a subnet that covers the address the API is reached at", async () => {
    const target = await network();
    const before = await snapshot(target);
    const response = await app.inject({
      method: "PATCH",
      url: `/api/hosts/${target.hostId}`,
      headers: { authorization: `Bearer ${defaultTokens.get(app)}`, host: `${API_HOST}:8443` },
      payload: { subnets: ["198.51.100.0/24"] },
    });
    expect(response.statusCode, response.body).toBe(409);
    expect(response.json().message).toBe(
      `body.subnets.0 covers ${API_HOST}, an address of this API: the switches' agents would lose their way to it`,
    );
    expect(await snapshot(target)).toEqual(before);
  });

  it.each([
    ["loopback", "127.0.0.0/8", "the loopback range 127.0.0.0/8"],
    ["link-local (cloud metadata)", "169.254.0.0/16", "the link-local range 169.254.0.0/16"],
    ["multicast", "239.0.0.0/8", "the multicast range 224.0.0.0/4"],
    ['"this network"', "0.0.0.0/8", 'the "this network" range 0.0.0.0/8'],
    ["limited broadcast", "255.255.255.255/32", "the limited broadcast address 255.255.255.255"],
  ])("refuses a %s subnet behind a host", async (_kind, cidr, range) => {
    await refusedPatch(
      admin,
      { subnets: ["192.168.20.0/24", cidr] },
      { status: 400, message: `body.subnets.1 overlaps ${range}` },
    );
  });

  it("refuses a host's subnets that overlap each other", async () => {
    await refusedPatch(
      operator,
      { subnets: ["192.168.0.0/16", "192.168.5.0/24"] },
      { status: 400, message: "body.subnets.1 overlaps body.subnets.0 of the same host" },
    );
  });

  it("lets only an admin add a subnet shorter than /16, and an operator still edit that host", async () => {
    const target = await network();
    const before = await snapshot(target);
    const byOperator = await operator.patch(`/api/hosts/${target.hostId}`, { subnets: ["100.64.0.0/10"] });
    expect(byOperator.status, byOperator.text).toBe(403);
    expect(byOperator.body.message).toBe(
      "body.subnets.0 is a /10: a subnet shorter than /16 behind a host needs an admin",
    );
    expect(await snapshot(target)).toEqual(before);

    const byAdmin = await admin.patch(`/api/hosts/${target.hostId}`, { subnets: ["100.64.0.0/10"] });
    expect(byAdmin.status, byAdmin.text).toBe(200);
    const kept = await operator.patch(`/api/hosts/${target.hostId}`, { description: "CGNAT range behind it" });
    expect(kept.status, kept.text).toBe(200);
    const another = await operator.patch(`/api/hosts/${target.hostId}`, { subnets: ["100.64.0.0/10", "44.0.0.0/8"] });
    expect(another.status, another.text).toBe(403);
    expect(another.body.message).toMatch(/^body\.subnets\.1 is a \/8/);
  });

  it("refuses a short subnet in an operator's import, and imports nothing", async () => {
    const { networkId } = await network();
    const response = await operator.post("/api/hosts/import", {
      networkId,
      hosts: [{ commonName: "fine" }, { commonName: "router", subnets: ["128.0.0.0/1"] }],
    });
    expect(response.status, response.text).toBe(400);
    expect(response.body.errors).toEqual([
      expect.objectContaining({ row: 1, field: "hosts.1.subnets.0", message: expect.stringMatching(/^must be \/8/) }),
    ]);
    const hosts = (await admin.get(`/api/hosts?networkId=${networkId}`)).body.items;
    expect(hosts.map((h: { commonName: string }) => h.commonName)).toEqual(["office-gw"]);
  });

  describe("pushed routes", () => {
    it("refuses a pushed default route", async () => {
      await refusedPatch(
        operator,
        { pushRoutes: ["0.0.0.0/0"] },
        { status: 400, message: /^body\.pushRoutes\.0 must be \/8 or longer \(got \/0\)/ },
      );
    });

    it("refuses 0.0.0.0/1 + 128.0.0.0/1, a default route in disguise", async () => {
      await refusedPatch(
        operator,
        { pushRoutes: ["0.0.0.0/1", "128.0.0.0/1"] },
        { status: 400, message: /^body\.pushRoutes\.0 must be \/8 or longer \(got \/1\)/ },
      );
    });

    it("refuses a pushed route inside the network's data subnet", async () => {
      const target = await network();
      const dataSubnet = (await admin.get(`/api/networks/${target.networkId}`)).body.dataSubnet as string;
      const inside = dataSubnet.replace(/\.0\/24$/, ".128/25");
      const response = await operator.patch(`/api/hosts/${target.hostId}`, { pushRoutes: [inside] });
      expect(response.status, response.text).toBe(400);
      expect(response.body.message).toBe(`body.pushRoutes.0 overlaps the data subnet ${dataSubnet}`);
    });

    it("refuses a pushed route inside the host's own subnets", async () => {
      await refusedPatch(
        operator,
        { pushRoutes: ["192.168.10.128/25"] },
        { status: 400, message: "body.pushRoutes.0 lies inside body.subnets.0, a subnet behind this same host" },
      );
    });

    it("refuses a pushed route that covers a switch's endpoint (the host's tunnel would route into itself)", async () => {
      await refusedPatch(
        operator,
        { pushRoutes: ["203.0.0.0/8"] },
        {
          status: 409,
          message: `body.pushRoutes.0 covers ${ENDPOINT}, the endpoint of switch a: the host would send its tunnel into itself`,
        },
      );
    });

    it.each([
      ["loopback", "127.0.0.0/8"],
      ["multicast", "224.0.0.0/8"],
      ["link-local", "169.254.169.254/32"],
      ["limited broadcast", "255.255.255.255/32"],
    ])("refuses a pushed %s route", async (_kind, cidr) => {
      await refusedPatch(
        operator,
        { pushRoutes: [cidr] },
        { status: 400, message: /^body\.pushRoutes\.0 overlaps the / },
      );
    });
  });

  it("still accepts ordinary routes from an operator", async () => {
    const target = await network();
    const response = await operator.patch(`/api/hosts/${target.hostId}`, {
      subnets: ["192.168.10.0/24", "192.168.11.0/24"],
      pushRoutes: ["192.168.0.0/16", "172.20.0.0/16"],
    });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({ subnets: ["192.168.10.0/24", "192.168.11.0/24"] });
  });
});

describe("the prefix floors are settings", () => {
  let app: TypedApp;

  beforeAll(async () => {
    const db = await openTestDatabase("pglite");
    app = await buildApp({
      db,
      pki: testPki(),
      closeDatabaseOnClose: true,
      hostRoutes: { minPrefix: 16, operatorMinPrefix: 20 },
    });
    defaultTokens.set(app, await seedToken(db, "admin"));
  }, 180_000);
  afterAll(() => app.close());

  it("refuses an admin's /12 when HOST_SUBNET_MIN_PREFIX is 16", async () => {
    const api = apiClient(app);
    const net = await api.post(
      "/api/networks",
      networkBody({ dataSubnet: "10.210.0.0/24", backboneSubnet: "10.211.0.0/24" }),
    );
    const response = await api.post("/api/hosts", {
      networkId: net.body.id,
      commonName: "wide",
      subnets: ["100.64.0.0/12"],
    });
    expect(response.status, response.text).toBe(400);
    expect(response.body.message).toMatch(/^body\.subnets\.0 must be \/16 or longer \(got \/12\)/);
  });
});
