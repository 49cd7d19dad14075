import { rmSync } from "node:fs";
import type { FakeKernelRoute } from "@switchboard/testkit/agent/fake-ip";
import { type SwitchSim, startSwitchSim } from "@switchboard/testkit/agent/switch-sim";
import { startTestAgent, type TestAgent } from "@switchboard/testkit/agent/test-agent";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it, vi } from "vitest";
import { enrollSwitch, type LiveApi, networkWithSwitches, startLiveApi } from "../support/live-api.ts";
import { type DatabaseKind, describeEachDatabase } from "../support/test-database.ts";
import { patiently } from "../support/waits.ts";

interface Node {
  id: string;
  dataAddress: string;
  backboneAddress: string;
  sim: SwitchSim;
  agent: TestAgent;
}

interface Host {
  id: string;
  address: string;
  route: string;
}

const has = (table: FakeKernelRoute[], dst: string, gateway?: string) =>
  table.some((r) => r.dst === dst && (gateway === undefined || r.gateway === gateway));

describeEachDatabase("sessions and routes across three switches over real websockets", (kind: DatabaseKind) => {
  let live: LiveApi;
  // Each test gets its own network, switches, agents and hosts; only the API is shared.
  let networkId: string;
  let a: Node;
  let b: Node;
  let c: Node;
  let web: Host;
  let db: Host;
  const now = Math.floor(Date.now() / 1000);
  const SUBNET = "192.168.77.0/24";

  beforeAll(async () => {
    live = await startLiveApi(kind, { pollMs: 500 });
  });
  afterAll(() => live.close());

  beforeEach(async () => {
    const created = await networkWithSwitches(live.api, 3);
    networkId = created.networkId;
    const host = async (commonName: string, subnets: string[]): Promise<Host> => {
      const response = await live.api.post("/api/hosts", { networkId, commonName, subnets });
      expect(response.status, response.text).toBe(201);
      return { id: response.body.id, address: response.body.address, route: `${response.body.address}/32` };
    };
    web = await host("web-1", [SUBNET]);
    db = await host("db-1", []);
    const nodes: Node[] = [];
    for (const id of created.switches) {
      const sw = (await live.api.get(`/api/switches/${id}`)).body;
      const sim = await startSwitchSim();
      const agent = await startTestAgent({
        api: live.url,
        credential: await enrollSwitch(live, id),
        switchId: id,
        baseDir: sim.baseDir,
      });
      nodes.push({ id, dataAddress: sw.dataAddress, backboneAddress: sw.backboneAddress, sim, agent });
    }
    [a, b, c] = nodes as [Node, Node, Node];
    for (const node of nodes) {
      // Each switch has a route to the two others' data addresses once its first snapshot is in.
      await vi.waitFor(() => expect(node.agent.ip.table, "the first snapshot's routes").toHaveLength(2), patiently);
      await vi.waitFor(
        () => expect(node.sim.management.connections, "the agent's management connection").toBeGreaterThan(0),
        patiently,
      );
    }
  });
  afterEach(async () => {
    for (const node of [a, b, c]) {
      await node?.agent.stop();
      await node?.sim.close();
      if (node) rmSync(node.sim.baseDir, { recursive: true, force: true });
    }
  });

  const sessions = async (query: string) =>
    (await live.api.get(`/api/sessions?${query}`)).body as { switchId: string }[];
  const switchesOf = async (host: Host) => (await sessions(`hostId=${host.id}`)).map((s) => s.switchId);

  /** Connects the host on `node` and waits until the other two switches route it there. */
  async function connect(node: Node, host: Host, commonName: string, clientId: number, at: number) {
    node.sim.connect(commonName, clientId, at);
    const others = [a, b, c].filter((other) => other !== node);
    await vi.waitFor(() => {
      for (const other of others) {
        expect(
          has(other.agent.ip.table, host.route, node.backboneAddress),
          `${commonName}'s route via its switch`,
        ).toBe(true);
      }
    }, patiently);
    await expect.poll(() => switchesOf(host), { ...patiently, message: `${commonName}'s session` }).toEqual([node.id]);
  }

  it("a session on A gives B and C a route to the host (and its subnet) via A; A keeps none for it", async () => {
    a.sim.connect("web-1", 11, now);
    await vi.waitFor(() => {
      expect(has(b.agent.ip.table, web.route, a.backboneAddress), "B's route to the host via A").toBe(true);
      expect(has(c.agent.ip.table, web.route, a.backboneAddress), "C's route to the host via A").toBe(true);
    }, patiently);
    expect(has(b.agent.ip.table, SUBNET, a.backboneAddress)).toBe(true);
    expect(has(a.agent.ip.table, web.route)).toBe(false);
    // A routes the subnet behind its own host into its tun device, via the host's address.
    await vi.waitFor(
      () => expect(has(a.agent.ip.table, SUBNET, web.address), "the local subnet route on A").toBe(true),
      patiently,
    );

    await expect
      .poll(() => sessions(`hostId=${web.id}`), patiently)
      .toEqual([expect.objectContaining({ switchId: a.id, commonName: "web-1", realAddress: "198.51.100.7:40011" })]);
    expect(await sessions(`switchId=${b.id}`)).toEqual([]);
    expect(await sessions(`networkId=${networkId}`)).toHaveLength(1);
  });

  it("a roam to B moves the route to B, even when A reports the old session's end afterwards", async () => {
    await connect(a, web, "web-1", 11, now);
    // db-1 on A is the marker: its disconnect follows A's late report through the same hook and channel.
    await connect(a, db, "db-1", 12, now);
    b.sim.connect("web-1", 21, now + 2); // Newer than A's, and not ahead of the API's clock by more than the 5 s it allows.
    await vi.waitFor(() => {
      expect(has(c.agent.ip.table, web.route, b.backboneAddress), "C's route to the host via B").toBe(true);
      expect(has(b.agent.ip.table, web.route), "B's own route to the host").toBe(false);
    }, patiently);
    await expect.poll(() => switchesOf(web), patiently).toEqual([b.id]);

    // A learns late that its old session ended: its own rule then lets the route via B in, and
    // the API does not take that late disconnect for the host leaving B.
    a.sim.disconnect("web-1", now);
    a.sim.disconnect("db-1", now);
    // Once db-1's end is in the table and its route is gone from C, the API has handled the late report.
    await expect.poll(() => switchesOf(db), patiently).toEqual([]);
    await vi.waitFor(() => expect(has(c.agent.ip.table, db.route), "db-1's route on C").toBe(false), patiently);
    await vi.waitFor(
      () => expect(has(a.agent.ip.table, web.route, b.backboneAddress), "A's route via B").toBe(true),
      patiently,
    );
    expect(has(c.agent.ip.table, web.route, b.backboneAddress)).toBe(true);
    expect(await switchesOf(web)).toEqual([b.id]);
    const retired = await live.db.prisma.session.findFirstOrThrow({ where: { hostId: web.id, switchId: a.id } });
    expect(retired.endReason).toBe("roamed");
  });

  it("a disconnect withdraws the host's routes everywhere", async () => {
    await connect(b, web, "web-1", 21, now);
    await vi.waitFor(
      () => expect(has(a.agent.ip.table, SUBNET, b.backboneAddress), "A's route to the subnet via B").toBe(true),
      patiently,
    );
    b.sim.disconnect("web-1", now);
    await vi.waitFor(() => {
      expect(has(a.agent.ip.table, web.route), "A's route to the host").toBe(false);
      expect(has(c.agent.ip.table, web.route), "C's route to the host").toBe(false);
      expect(has(a.agent.ip.table, SUBNET), "A's route to the subnet").toBe(false);
    }, patiently);
    await expect.poll(() => sessions(`hostId=${web.id}`), patiently).toEqual([]);
  });

  it("shows each switch's routes, desired and as applied", async () => {
    await connect(c, db, "db-1", 31, now);
    await vi.waitFor(async () => {
      const view = (await live.api.get(`/api/switches/${a.id}/routes`)).body;
      expect(view.desired, "A's desired routes").toHaveLength(3);
      expect(view.applied, "A's route report to match").toHaveLength(3);
    }, patiently);
    const view = (await live.api.get(`/api/switches/${a.id}/routes`)).body;
    expect(view.desired.map((r: { destination: string }) => r.destination).sort()).toEqual(
      [`${b.dataAddress}/32`, `${c.dataAddress}/32`, db.route].sort(),
    );
    expect(view.failed).toEqual([]);
  });

  it("kills a session on the switch that holds it, toward the next switch when asked, and audits it", async () => {
    await connect(c, db, "db-1", 31, now);
    const answer = await live.api.post(`/api/hosts/${db.id}/kill-session`, { nextRemote: true });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ switchId: c.id, ok: true });
    expect(c.sim.management.received).toContain("client-kill 31 RESTART,[N]");
    const audit = await live.db.prisma.auditEvent.findFirst({
      where: { action: "host.kill-session", targetId: db.id },
    });
    expect(audit).not.toBeNull();
    // web-1 has no session to kill.
    expect((await live.api.post(`/api/hosts/${web.id}/kill-session`, {})).status).toBe(409);
  });

  it("revoking a host's certificate asks its switch to kill the session", async () => {
    await connect(c, db, "db-1", 31, now);
    const cert = await live.api.post(`/api/hosts/${db.id}/certificate`, {});
    expect(cert.status).toBe(201);
    const kills = () => c.sim.management.received.filter((line) => line === "client-kill 31").length;
    const before = kills();
    expect((await live.api.post(`/api/certificates/${cert.body.id}/revoke`, { reason: "keyCompromise" })).status).toBe(
      200,
    );
    await expect.poll(kills, { ...patiently, message: "client-kill after revocation" }).toBe(before + 1);
  });
});
