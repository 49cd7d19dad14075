import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { startTestAgent, type TestAgent } from "@switchboard/testkit/agent/test-agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificateAuthority } from "../../src/features/pki/certificate-authority.ts";
import { enrollSwitch, type LiveApi, networkWithSwitches, startLiveApi, until } from "../support/live-api.ts";

describe("desired state reaches the agent's files [pglite]", () => {
  let live: LiveApi;
  let networkId: string;
  let switchA: string;
  let switchB: string;
  let agent: TestAgent;
  const file = (name: string) => join(agent.baseDir, name);
  const status = async () => (await live.api.get(`/api/switches/${switchA}/status`)).body;
  const networkRevision = async () => (await live.api.get(`/api/networks/${networkId}`)).body.revision;

  beforeAll(async () => {
    live = await startLiveApi("pglite", { pollMs: 500 });
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
  });
  afterAll(async () => {
    await agent.destroy();
    await live.close();
  });

  it("writes its own server files with 0600 keys, one ccd file per enabled host, its link, and acks", async () => {
    await until(() => existsSync(file("ccd/web-1")), "the first snapshot's files");
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

    const revision = await networkRevision();
    await until(async () => (await status()).revisionApplied === revision, "the ack to be recorded");
    expect(await status()).toMatchObject({ online: true, revisionDesired: revision, lastError: null });
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

  it("adds a ccd file for a new host and removes a deleted host's within a tick, acking each revision", async () => {
    const created = await live.api.post("/api/hosts", { networkId, commonName: "db-1" });
    expect(created.status).toBe(201);
    await until(() => existsSync(file("ccd/db-1")), "the new host's ccd file", 2000);
    expect(readFileSync(file("ccd/db-1"), "utf8")).toContain(`ifconfig-push ${created.body.address}`);

    expect((await live.api.delete(`/api/hosts/${created.body.id}`)).status).toBe(204);
    await until(() => !existsSync(file("ccd/db-1")), "the deleted host's ccd file to go", 2000);
    const revision = await networkRevision();
    await until(async () => (await status()).revisionApplied === revision, "the ack of the latest revision");
  });

  it("removes a disabled host's file and gives it back when re-enabled", async () => {
    const host = (await live.api.get(`/api/hosts?networkId=${networkId}&search=web-1`)).body.items[0];
    await live.api.patch(`/api/hosts/${host.id}`, { enabled: false });
    await until(() => !existsSync(file("ccd/web-1")), "the disabled host's file to go", 2000);
    await live.api.patch(`/api/hosts/${host.id}`, { enabled: true });
    await until(() => existsSync(file("ccd/web-1")), "the re-enabled host's file", 2000);
  });

  it("restores the full state with a snapshot after the agent reconnects", async () => {
    await agent.stop();
    await live.api.post("/api/hosts", { networkId, commonName: "while-away" });
    const again = await startTestAgent({
      api: live.url,
      credential: await enrollSwitch(live, switchA),
      switchId: switchA,
      baseDir: agent.baseDir,
      ip: agent.ip,
    });
    agent = again;
    await until(() => existsSync(file("ccd/while-away")), "the host added while the agent was away");
  });
});
