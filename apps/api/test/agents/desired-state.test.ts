import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { startTestAgent, type TestAgent } from "@switchboard/testkit/agent/test-agent";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { certificateAuthority } from "../../src/features/pki/certificate-authority.ts";
import { enrollSwitch, type LiveApi, networkWithSwitches, startLiveApi } from "../support/live-api.ts";
import { patiently } from "../support/waits.ts";

describe("desired state reaches the agent's files [pglite]", () => {
  let live: LiveApi;
  // Each test gets its own network (switches A and B, web-1 and the disabled old-laptop) and A's agent.
  let networkId: string;
  let switchA: string;
  let switchB: string;
  let agent: TestAgent;
  const file = (name: string) => join(agent.baseDir, name);
  const status = async () => (await live.api.get(`/api/switches/${switchA}/status`)).body;
  const networkRevision = async () => (await live.api.get(`/api/networks/${networkId}`)).body.revision;
  const present = (name: string) => expect.poll(() => existsSync(file(name)), { ...patiently, message: name });
  /** Waits until A has acked the network's current revision; returns it. */
  const acked = () =>
    vi.waitFor(async () => {
      const revision = await networkRevision();
      expect((await status()).revisionApplied, "A's ack of the network's revision").toBe(revision);
      return revision as number;
    }, patiently);

  beforeAll(async () => {
    live = await startLiveApi("pglite", { pollMs: 500 });
  });
  afterAll(() => live.close());

  beforeEach(async () => {
    const created = await networkWithSwitches(live.api, 2);
    networkId = created.networkId;
    [switchA, switchB] = created.switches as [string, string];
    await live.api.post("/api/hosts", { networkId, commonName: "web-1", subnets: ["192.168.50.0/24"] });
    await live.api.post("/api/hosts", { networkId, commonName: "old-laptop", enabled: false });
    agent = await startTestAgent({
      api: live.url,
      credential: await enrollSwitch(live, switchA),
      switchId: switchA,
    });
    await acked();
  });
  afterEach(() => agent.destroy());

  it("writes its own server files with 0600 keys, one ccd file per enabled host, its link, and acks", async () => {
    for (const key of ["server.key", "backbone.key", "tls-crypt.key", "state/desired.json"]) {
      expect(statSync(file(key)).mode & 0o777, key).toBe(0o600);
    }
    expect(statSync(file("server.conf")).mode & 0o777).toBe(0o644);
    expect(readFileSync(file("server.conf"), "utf8")).toContain("mode server");
    expect(readFileSync(file("ca.crt"), "utf8")).toContain("BEGIN CERTIFICATE");
    expect(readFileSync(file("crl.pem"), "utf8")).toContain("BEGIN X509 CRL");
    expect(readFileSync(file("ccd/web-1"), "utf8")).toContain("iroute 192.168.50.0 255.255.255.0");
    expect(existsSync(file("ccd/old-laptop"))).toBe(false);
    expect(readdirSync(agent.baseDir).filter((name) => /^backbone-\d+\.conf$/.test(name))).toHaveLength(1);

    expect(await status()).toMatchObject({
      online: true,
      revisionDesired: await networkRevision(),
      lastError: null,
    });
    // The route to the other switch's data address, over the link to it.
    const b = (await live.api.get(`/api/switches/${switchB}`)).body;
    expect(agent.ip.table.map((route) => route.dst)).toEqual([`${b.dataAddress}/32`]);
  });

  it("never sends another switch's private key", async () => {
    const authority = certificateAuthority(live.pki);
    const rows = await live.db.prisma.certificate.findMany({
      where: { switchId: switchB, revokedAt: null },
    });
    expect(rows.length).toBe(2);
    const everything = readdirSync(agent.baseDir, { recursive: true })
      .map(String)
      .filter((name) => statSync(join(agent.baseDir, name)).isFile())
      .map((name) => readFileSync(join(agent.baseDir, name), "utf8"))
      .join("\n");
    for (const row of rows) {
      const key = authority.privateKeyOf(row) as string;
      const body = key.split("\n").slice(1, 3).join("\n");
      expect(everything).not.toContain(body);
    }
    const ownServer = await live.db.prisma.certificate.findFirstOrThrow({
      where: { switchId: switchA, kind: "server", revokedAt: null },
    });
    expect(readFileSync(file("server.key"), "utf8")).toBe(authority.privateKeyOf(ownServer));
  });

  it("adds a ccd file for a new host and removes a deleted host's, acking each revision", async () => {
    const created = await live.api.post("/api/hosts", { networkId, commonName: "db-1" });
    expect(created.status).toBe(201);
    await present("ccd/db-1").toBe(true);
    expect(readFileSync(file("ccd/db-1"), "utf8")).toContain(`ifconfig-push ${created.body.address}`);
    const added = await acked();

    expect((await live.api.delete(`/api/hosts/${created.body.id}`)).status).toBe(204);
    await present("ccd/db-1").toBe(false);
    expect(await acked()).toBeGreaterThan(added);
  });

  it("removes a disabled host's file and gives it back when re-enabled", async () => {
    const host = (await live.api.get(`/api/hosts?networkId=${networkId}&search=web-1`)).body.items[0];
    await live.api.patch(`/api/hosts/${host.id}`, { enabled: false });
    await present("ccd/web-1").toBe(false);
    await live.api.patch(`/api/hosts/${host.id}`, { enabled: true });
    await present("ccd/web-1").toBe(true);
  });

  it("restores the full state with a snapshot after the agent reconnects", async () => {
    await agent.stop();
    await live.api.post("/api/hosts", { networkId, commonName: "while-away" });
    expect(existsSync(file("ccd/while-away"))).toBe(false);
    agent = await startTestAgent({
      api: live.url,
      credential: await enrollSwitch(live, switchA),
      switchId: switchA,
      baseDir: agent.baseDir,
      ip: agent.ip,
    });
    await present("ccd/while-away").toBe(true);
  });
});
