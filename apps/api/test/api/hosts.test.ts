import { afterAll, beforeAll, expect, it } from "vitest";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { type ApiClient, apiClient, networkBody } from "../support/api-client.ts";
import { openTestApp } from "../support/test-app.ts";
import { type DatabaseKind, describeEachDatabase } from "../support/test-database.ts";

describeEachDatabase("hosts API", (kind: DatabaseKind) => {
  let app: TypedApp;
  let api: ApiClient;
  beforeAll(async () => {
    app = await openTestApp(kind);
    api = apiClient(app);
  });
  afterAll(() => app.close());

  /** A /24 with one switch at .1 whose pool is .2-.20, like a real deployment. */
  async function network(dataSubnet: string) {
    const net = (await api.post("/api/networks", networkBody({ dataSubnet }))).body as { id: string };
    const prefix = dataSubnet.split(".").slice(0, 3).join(".");
    await api.post("/api/switches", {
      networkId: net.id,
      name: "a",
      endpointHost: "a.example",
      dataAddress: `${prefix}.1`,
      pool: { start: `${prefix}.2`, end: `${prefix}.20` },
    });
    return { id: net.id, prefix };
  }

  it("gives hosts the lowest free static address outside switch addresses and pools", async () => {
    const net = await network("10.140.0.0/24");
    const first = await api.post("/api/hosts", {
      networkId: net.id,
      commonName: "web-1",
      tags: ["web", "prod"],
      description: "front",
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ address: "10.140.0.21", tags: ["web", "prod"], enabled: true, subnets: [] });
    const second = await api.post("/api/hosts", { networkId: net.id, commonName: "web-2" });
    expect(second.body.address).toBe("10.140.0.22");
  });

  it("frees the address of a deleted host for the next one", async () => {
    const net = await network("10.141.0.0/24");
    const host = (await api.post("/api/hosts", { networkId: net.id, commonName: "temp" })).body;
    expect((await api.delete(`/api/hosts/${host.id}`)).status).toBe(204);
    const next = await api.post("/api/hosts", { networkId: net.id, commonName: "temp" });
    expect(next.status).toBe(201);
    expect(next.body.address).toBe(host.address);
  });

  it.each([
    ["10.142.0.1", 409, "body.address is a switch's data address"],
    ["10.142.0.5", 409, "body.address is inside the dynamic pool of the switch at 10.142.0.1"],
    ["10.142.0.0", 400, "body.address is the network address of 10.142.0.0/24"],
    ["10.142.0.255", 400, "body.address is the broadcast address of 10.142.0.0/24"],
    ["10.143.0.9", 400, "body.address is outside the data subnet 10.142.0.0/24"],
    ["10.142.0.50", 409, "body.address is already used by another host"],
  ])("refuses the static address %s", async (address, status, message) => {
    const net = await network("10.142.0.0/24");
    await api.post("/api/hosts", { networkId: net.id, commonName: "holder", address: "10.142.0.50" });
    const response = await api.post("/api/hosts", { networkId: net.id, commonName: "newcomer", address });
    expect(response.status).toBe(status);
    expect(response.body.message).toBe(message);
    await api.delete(`/api/networks/${net.id}`);
  });

  it("routes subnets behind a host and refuses overlaps", async () => {
    const net = await network("10.144.0.0/24");
    const router = await api.post("/api/hosts", {
      networkId: net.id,
      commonName: "office-gw",
      subnets: ["192.168.10.0/24"],
      pushRoutes: ["192.168.20.0/24"],
    });
    expect(router.status).toBe(201);
    expect(router.body).toMatchObject({ subnets: ["192.168.10.0/24"], pushRoutes: ["192.168.20.0/24"] });
    const clash = await api.post("/api/hosts", {
      networkId: net.id,
      commonName: "other-gw",
      subnets: ["192.168.10.128/25"],
    });
    expect(clash.status).toBe(409);
    expect(clash.body.message).toBe("body.subnets.0 overlaps 192.168.10.0/24 behind host office-gw");
    const intoData = await api.post("/api/hosts", {
      networkId: net.id,
      commonName: "bad-gw",
      subnets: ["10.144.0.0/25"],
    });
    expect(intoData.status).toBe(400);
    expect(intoData.body.message).toBe("body.subnets.0 overlaps the data subnet 10.144.0.0/24");
  });

  it("updates a host's address and settings but never its common name", async () => {
    const net = await network("10.145.0.0/24");
    const host = (await api.post("/api/hosts", { networkId: net.id, commonName: "db-1" })).body;
    const moved = await api.patch(`/api/hosts/${host.id}`, { address: "10.145.0.99", enabled: false, tags: ["db"] });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ address: "10.145.0.99", enabled: false, tags: ["db"], commonName: "db-1" });
    const same = await api.patch(`/api/hosts/${host.id}`, { address: "10.145.0.99" });
    expect(same.status).toBe(200);
    const rename = await api.patch(`/api/hosts/${host.id}`, { commonName: "db-2" });
    expect(rename.status).toBe(400);
    expect(rename.body.message).toBe("body.commonName is not a known field");
    const intoPool = await api.patch(`/api/hosts/${host.id}`, { address: "10.145.0.3" });
    expect(intoPool.status).toBe(409);
  });

  it("hands 200 parallel creations 200 distinct addresses; one the database is too busy to start is a 503 that a retry completes", async () => {
    const net = await network("10.146.0.0/24");
    // .21-.254 is 234 free addresses: all 200 fit, and the network lock serialises allocation,
    // so none may be refused (a 409 here would be a lost race, not a full range). On a loaded
    // machine a request can wait out its turn for a database connection: that must be a clean
    // 503 with Retry-After that changed nothing, never a 500.
    const create = (i: number) => api.post("/api/hosts", { networkId: net.id, commonName: `burst-${i}` });
    let responses = await Promise.all(Array.from({ length: 200 }, (_, i) => create(i)));
    const unexpected = (list: typeof responses) =>
      list.filter((r) => r.status !== 201 && !(r.status === 503 && r.headers["retry-after"] === "1"));
    expect(unexpected(responses).map((r) => `${r.status} ${r.text}`)).toEqual([]);
    for (let round = 0; round < 10 && responses.some((r) => r.status === 503); round++) {
      responses = await Promise.all(responses.map((r, i) => (r.status === 503 ? create(i) : r)));
      expect(unexpected(responses).map((r) => `${r.status} ${r.text}`)).toEqual([]);
    }
    expect(responses.map((r) => r.status)).toEqual(Array(200).fill(201));
    const addresses = responses.map((r) => r.body.address);
    expect(new Set(addresses).size).toBe(200);
  });

  it("answers 409 for every creation once the static range is full, under concurrency", async () => {
    const net = (await api.post("/api/networks", networkBody({ dataSubnet: "10.147.0.0/28" }))).body;
    // A /28 has 14 usable addresses; ask for 30 at once with explicit and automatic addresses.
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        api.post("/api/hosts", {
          networkId: net.id,
          commonName: `full-${i}`,
          ...(i % 3 === 0 ? { address: `10.147.0.${(i % 14) + 1}` } : {}),
        }),
      ),
    );
    const created = responses.filter((r) => r.status === 201);
    expect(responses.filter((r) => r.status !== 201 && r.status !== 409)).toEqual([]);
    expect(new Set(created.map((r) => r.body.address)).size).toBe(created.length);
    expect(created.length).toBe(14);
  });

  it("lists with filters, search, sorting and cursor pages", async () => {
    const net = await network("10.148.0.0/24");
    for (let i = 0; i < 12; i++) {
      await api.post("/api/hosts", {
        networkId: net.id,
        commonName: `node-${String(i).padStart(2, "0")}`,
        tags: i % 2 ? ["odd"] : ["even"],
        enabled: i !== 3,
        description: i === 7 ? "The Lucky One" : "",
      });
    }
    const base = `/api/hosts?networkId=${net.id}`;
    const seen: string[] = [];
    let url = `${base}&limit=5&sort=address&order=desc`;
    for (;;) {
      const page = await api.get(url);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((h: { address: string }) => h.address));
      if (!page.body.nextCursor) break;
      url = `${base}&limit=5&sort=address&order=desc&cursor=${page.body.nextCursor}`;
    }
    expect(seen).toHaveLength(12);
    expect(seen[0]).toBe("10.148.0.32");
    expect(seen.at(-1)).toBe("10.148.0.21");
    expect((await api.get(`${base}&tag=odd`)).body.items).toHaveLength(6);
    expect(
      (await api.get(`${base}&enabled=false`)).body.items.map((h: { commonName: string }) => h.commonName),
    ).toEqual(["node-03"]);
    expect((await api.get(`${base}&search=lucky`)).body.items.map((h: { commonName: string }) => h.commonName)).toEqual(
      ["node-07"],
    );
    expect((await api.get(`${base}&search=10.148.0.2`)).body.items).toHaveLength(9); // .21-.29
    // % and _ are matched literally, not as LIKE wildcards.
    expect((await api.get(`${base}&search=node%25`)).body.items).toEqual([]);
    expect((await api.get(`${base}&search=node_0`)).body.items).toEqual([]);
    expect((await api.get(`${base}&search=node-0`)).body.items).toHaveLength(10);
    const byName = await api.get(`${base}&sort=commonName&limit=3`);
    expect(byName.body.items.map((h: { commonName: string }) => h.commonName)).toEqual([
      "node-00",
      "node-01",
      "node-02",
    ]);
    const byDate = await api.get(`${base}&sort=createdAt&limit=4`);
    const next = await api.get(`${base}&sort=createdAt&limit=4&cursor=${byDate.body.nextCursor}`);
    expect(next.body.items).toHaveLength(4);
    expect(next.body.items[0].commonName).toBe("node-04");
    const badCursor = await api.get(`${base}&cursor=bm9wZQ`);
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.message).toBe("querystring.cursor is not a cursor this API returned");
  });

  it("imports hosts from JSON, all or nothing, with a per-row error report", async () => {
    const net = await network("10.149.0.0/24");
    const bad = await api.post("/api/hosts/import", {
      networkId: net.id,
      hosts: [
        { commonName: "ok-1" },
        { commonName: "ok-2", address: "10.149.0.5" },
        { commonName: "ok-1" },
        { commonName: "ok-3" },
      ],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([
      { row: 1, field: "hosts.1.address", message: "is inside the dynamic pool of the switch at 10.149.0.1" },
      { row: 2, field: "hosts.2.commonName", message: "is already used by another host in this network" },
    ]);
    expect((await api.get(`/api/hosts?networkId=${net.id}`)).body.items).toEqual([]);

    const good = await api.post("/api/hosts/import", {
      networkId: net.id,
      hosts: [
        { commonName: "ok-1", address: "10.149.0.21" },
        { commonName: "ok-2" },
        { commonName: "ok-3", tags: ["x"] },
      ],
    });
    expect(good.status).toBe(201);
    expect(good.body.hosts.map((h: { address: string }) => h.address)).toEqual([
      "10.149.0.21",
      "10.149.0.22",
      "10.149.0.23",
    ]);
  });

  it("imports hosts from CSV, and reports schema errors by row", async () => {
    const net = await network("10.150.0.0/24");
    const csv =
      "commonName,address,tags,enabled,subnets\nalpha,,web;prod,true,\nbeta,10.150.0.77,db,false,192.168.77.0/24\n";
    const created = await api.post(`/api/hosts/import?networkId=${net.id}`, csv, { "content-type": "text/csv" });
    expect(created.status).toBe(201);
    expect(created.body.hosts).toMatchObject([
      { commonName: "alpha", address: "10.150.0.21", tags: ["web", "prod"], enabled: true },
      { commonName: "beta", address: "10.150.0.77", enabled: false, subnets: ["192.168.77.0/24"] },
    ]);
    const hostile = await api.post(
      `/api/hosts/import?networkId=${net.id}`,
      "commonName,address\n../../etc/passwd,\ngood,10.150.0.300\n",
      {
        "content-type": "text/csv",
      },
    );
    expect(hostile.status).toBe(400);
    expect(hostile.body.errors.map((e: { row: number; field: string }) => [e.row, e.field])).toEqual([
      [0, "body.hosts.0.commonName"],
      [1, "body.hosts.1.address"],
    ]);
    const unknownColumn = await api.post(`/api/hosts/import?networkId=${net.id}`, "commonName,password\nx,y\n", {
      "content-type": "text/csv",
    });
    expect(unknownColumn.status).toBe(400);
    expect(unknownColumn.body.message).toContain('has an unknown column "password"');
  });

  it("reports every bad row of an import at once: schema problems and conflicts together, in file order", async () => {
    const net = await network("10.151.0.0/24");
    await api.post("/api/hosts", { networkId: net.id, commonName: "taken" });
    const csv = [
      "commonName,address,description",
      "fine-1,,",
      "../../etc/passwd,,", // schema: the name's pattern
      "taken,,", // conflict: the network has it
      "fine-2,10.151.0.300,", // schema: not an address
      "fine-3,10.151.0.5,", // conflict: inside the switch's pool
      "fine-1,,", // conflict: the file's own row 0
    ].join("\n");
    const refused = await api.post(`/api/hosts/import?networkId=${net.id}`, csv, { "content-type": "text/csv" });
    expect(refused.status).toBe(400);
    expect(refused.body.errors.map((e: { row: number; field: string }) => [e.row, e.field])).toEqual([
      [1, "body.hosts.1.commonName"],
      [2, "hosts.2.commonName"],
      [3, "body.hosts.3.address"],
      [4, "hosts.4.address"],
      [5, "hosts.5.commonName"],
    ]);
    expect(refused.body.message).toMatch(/^5 of the imported hosts are invalid, nothing was imported; first: row 1 /);
    const one = await api.post("/api/hosts/import", { networkId: net.id, hosts: [{ commonName: "taken" }] });
    expect(one.body.message).toMatch(/^1 imported host is invalid, nothing was imported/);
    expect(
      (await api.get(`/api/hosts?networkId=${net.id}`)).body.items.map((h: { commonName: string }) => h.commonName),
    ).toEqual(["taken"]);
  });

  it("pages every sort and order through hosts imported together, each host exactly once", async () => {
    const net = await network("10.158.0.0/24");
    // One import shares one createdAt: only the id tells these hosts apart in that order.
    const hosts = Array.from({ length: 23 }, (_, i) => ({
      commonName: `page-${String((i * 7) % 23).padStart(2, "0")}`,
      tags: i % 3 === 0 ? ["third"] : [],
    }));
    expect((await api.post("/api/hosts/import", { networkId: net.id, hosts })).status).toBe(201);
    const all = (await api.get(`/api/hosts?networkId=${net.id}&limit=500`)).body.items as { id: string }[];
    expect(all).toHaveLength(23);
    for (const sort of ["commonName", "address", "createdAt"]) {
      for (const order of ["asc", "desc"]) {
        for (const filter of ["", "&tag=third", "&search=page-1", "&enabled=true"]) {
          const base = `/api/hosts?networkId=${net.id}&limit=4&sort=${sort}&order=${order}${filter}`;
          const seen: string[] = [];
          for (let url = base; ; ) {
            const page = await api.get(url);
            expect(page.status).toBe(200);
            seen.push(...page.body.items.map((h: { id: string }) => h.id));
            if (!page.body.nextCursor) break;
            url = `${base}&cursor=${page.body.nextCursor}`;
          }
          const whole = (await api.get(`${base.replace("limit=4", "limit=500")}`)).body.items;
          expect(seen, `${sort} ${order} ${filter}`).toEqual(whole.map((h: { id: string }) => h.id));
          expect(new Set(seen).size, `${sort} ${order} ${filter}`).toBe(seen.length);
        }
      }
    }
    const byDate = (await api.get(`/api/hosts?networkId=${net.id}&limit=500&sort=createdAt`)).body.items;
    const ids = byDate.map((h: { id: string }) => h.id);
    expect(ids).toEqual([...ids].sort());
  });

  it("answers 400 for a cursor whose value or id cannot be one this API returned", async () => {
    const net = await network("10.159.0.0/24");
    const cursor = (value: string, id: string) => Buffer.from(JSON.stringify([value, id])).toString("base64url");
    const someId = "00000000-0000-4000-8000-000000000000";
    for (const [sort, bad] of [
      ["address", cursor("host-1", someId)],
      ["createdAt", cursor("yesterday", someId)],
      ["commonName", cursor("web-1", "not-a-uuid")],
    ] as const) {
      const response = await api.get(`/api/hosts?networkId=${net.id}&sort=${sort}&cursor=${bad}`);
      expect(response.status, sort).toBe(400);
      expect(response.body.message).toBe("querystring.cursor is not a cursor this API returned");
    }
    const fine = await api.get(`/api/hosts?networkId=${net.id}&sort=address&cursor=${cursor("10.159.0.30", someId)}`);
    expect(fine.status).toBe(200);
  });
});
