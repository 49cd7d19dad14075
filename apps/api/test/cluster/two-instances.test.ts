import { rmSync } from "node:fs";
import { backboneLinkPaths, networkAddress, parseCidr, parseIpv4 } from "@switchboard/shared";
import type { FakeKernelRoute } from "@switchboard/testkit/agent/fake-ip";
import { startFakeManagement } from "@switchboard/testkit/agent/fake-management";
import { type SwitchSim, startSwitchSim } from "@switchboard/testkit/agent/switch-sim";
import { startTestAgent, type TestAgent } from "@switchboard/testkit/agent/test-agent";
import { describeNeeding } from "@switchboard/testkit/needs";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { openDatabase } from "../../src/db/database.ts";
import { bearer, openConsole } from "../live/live-console.ts";
import { enrollSwitch, type LiveApi, networkWithSwitches, startLiveApiOn } from "../support/live-api.ts";
import { seedToken } from "../support/test-app.ts";
import { createScratchDatabase, type ScratchDatabase } from "../support/test-database.ts";
import { patiently } from "../support/waits.ts";

interface Node {
  id: string;
  backboneAddress: string;
  sim: SwitchSim;
  agent: TestAgent;
  credential: string;
}

const has = (table: FakeKernelRoute[], dst: string, gateway?: string) =>
  table.some((r) => r.dst === dst && (gateway === undefined || r.gateway === gateway));

/**
 * Two API instances on one PostgreSQL database, each holding one switch's agent: what one
 * instance learns from its agent must reach the switches whose agents the other holds. Before
 * the event log, a host on switch A never got a route on switch B when B's agent was elsewhere.
 */
describeNeeding(["postgresql"], "two API instances on one PostgreSQL", () => {
  let scratch: ScratchDatabase;
  let one: LiveApi;
  let two: LiveApi;
  let a: Node;
  let b: Node;
  let host: { id: string; route: string };
  const nodes: Node[] = [];
  const now = Math.floor(Date.now() / 1000);

  const instance = async (pki?: LiveApi["pki"]) =>
    startLiveApiOn(await openDatabase({ kind: "postgres", url: scratch.url }), { pollMs: 500 }, {}, pki);

  async function node(live: LiveApi, switchId: string): Promise<Node> {
    const sw = (await live.api.get(`/api/switches/${switchId}`)).body;
    const sim = await startSwitchSim();
    const credential = await enrollSwitch(live, switchId);
    const agent = await startTestAgent({ api: live.url, credential, switchId, baseDir: sim.baseDir });
    const made = { id: switchId, backboneAddress: sw.backboneAddress, sim, agent, credential };
    nodes.push(made);
    await vi.waitFor(() => expect(agent.ip.table, "the first snapshot's route to the peer").toHaveLength(1), patiently);
    await vi.waitFor(
      () => expect(sim.management.connections, "the agent's management connection").toBeGreaterThan(0),
      patiently,
    );
    return made;
  }

  beforeEach(async () => {
    scratch = await createScratchDatabase();
    one = await instance();
    two = await instance(one.pki);
    const { networkId, switches } = await networkWithSwitches(one.api, 2);
    const created = await one.api.post("/api/hosts", { networkId, commonName: "web-1" });
    expect(created.status, created.text).toBe(201);
    host = { id: created.body.id, route: `${created.body.address}/32` };
    a = await node(one, switches[0] as string);
    b = await node(two, switches[1] as string);
  }, 120_000);
  afterEach(async () => {
    for (const n of nodes.splice(0)) {
      await n.agent.stop();
      await n.sim.close();
      rmSync(n.sim.baseDir, { recursive: true, force: true });
    }
    await one?.close().catch(() => undefined);
    await two?.close().catch(() => undefined);
    await scratch?.drop();
  });

  const sessionsOn = async (live: LiveApi) =>
    ((await live.api.get(`/api/sessions?hostId=${host.id}`)).body as { switchId: string }[]).map((s) => s.switchId);

  it("a host on A (instance one) gets a route on B (instance two), moves with a roam, and goes with a disconnect", async () => {
    a.sim.connect("web-1", 11, now);
    await vi.waitFor(
      () => expect(has(b.agent.ip.table, host.route, a.backboneAddress), "B's route to the host via A").toBe(true),
      patiently,
    );
    // Both instances answer the same.
    await expect.poll(() => sessionsOn(two), patiently).toEqual([a.id]);
    await expect.poll(() => sessionsOn(one), patiently).toEqual([a.id]);

    b.sim.connect("web-1", 21, now + 2);
    await vi.waitFor(
      () => expect(has(b.agent.ip.table, host.route), "B's own route to the host").toBe(false),
      patiently,
    );
    await expect.poll(() => sessionsOn(one), patiently).toEqual([b.id]);
    // A's late report of the old session's end does not end the new one; A then routes via B
    // (while its OpenVPN listed the host, A's own rule kept it local).
    a.sim.disconnect("web-1", now);
    await vi.waitFor(
      () => expect(has(a.agent.ip.table, host.route, b.backboneAddress), "A's route to the host via B").toBe(true),
      patiently,
    );
    expect(await sessionsOn(two)).toEqual([b.id]);
    b.sim.disconnect("web-1", now + 2);
    await vi.waitFor(() => expect(has(a.agent.ip.table, host.route), "A's route to the host").toBe(false), patiently);
    await expect.poll(() => sessionsOn(one), patiently).toEqual([]);
    await expect.poll(() => sessionsOn(two), patiently).toEqual([]);
    const open = await one.db.prisma.session.count({ where: { hostId: host.id, disconnectedAt: null } });
    expect(open, "sessions left open in the table").toBe(0);
  });

  it("a kill-session asked of instance two reaches A's agent on instance one, with its answer", async () => {
    a.sim.connect("web-1", 11, now);
    await expect.poll(() => sessionsOn(two), patiently).toEqual([a.id]);
    const answer = await two.api.post(`/api/hosts/${host.id}/kill-session`, {});
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toMatchObject({ switchId: a.id, ok: true });
    expect(a.sim.management.received).toContain("client-kill 11");
    // With A's agent gone from every instance, the caller hears so at once (no silent wait).
    await a.agent.stop();
    await expect
      .poll(async () => (await two.api.get(`/api/switches/${a.id}/status`)).body.online, patiently)
      .toBe(false);
    const refused = await two.api.post(`/api/hosts/${host.id}/kill-session`, {});
    expect(refused.status, refused.text).toBe(409);
    expect(refused.body.message).toMatch(/agent is offline/);
  });

  it("revoking a host's certificate kicks it only once switches on the other instance hold the new CRL", async () => {
    a.sim.connect("web-1", 11, now);
    await expect.poll(() => sessionsOn(one), patiently).toEqual([a.id]);
    const cert = await one.api.post(`/api/hosts/${host.id}/certificate`, {});
    expect(cert.status, cert.text).toBe(201);
    // B's agent holds off its acks for a while: the kick must wait for it.
    const ack = b.agent.channel.send.bind(b.agent.channel);
    let holding = true;
    const held: Parameters<typeof ack>[0][] = [];
    b.agent.channel.send = (message) => {
      if (holding && message.type === "ack") {
        held.push(message);
        return true;
      }
      return ack(message);
    };
    const kills = () => a.sim.management.received.filter((line) => line === "client-kill 11").length;
    const revoked = await one.api.post(`/api/certificates/${cert.body.id}/revoke`, { reason: "keyCompromise" });
    expect(revoked.status, revoked.text).toBe(200);
    await vi.waitFor(() => expect(held.length, "B's held acks").toBeGreaterThan(0), patiently);
    // A (on instance one) has acked the new CRL: before, the kick went out right then.
    await vi.waitFor(async () => {
      const status = (await one.api.get(`/api/switches/${a.id}/status`)).body;
      expect(status.revisionApplied, "A's ack of the new CRL").toBe(status.revisionDesired);
    }, patiently);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(kills(), "a kick before B acked the new CRL").toBe(0);
    holding = false;
    for (const message of held) ack(message);
    await expect.poll(kills, { ...patiently, message: "client-kill after B acked" }).toBe(1);
  });

  it("a switch's applied routes read from the instance that does not hold its agent", async () => {
    a.sim.connect("web-1", 11, now);
    await vi.waitFor(() => expect(has(b.agent.ip.table, host.route, a.backboneAddress)).toBe(true), patiently);
    // B's agent is on instance two; ask instance one.
    await vi.waitFor(async () => {
      const view = (await one.api.get(`/api/switches/${b.id}/routes`)).body;
      expect(view.desired, "B's desired routes").toHaveLength(2);
      expect(view.applied, "B's route report, from instance two").toHaveLength(2);
    }, patiently);
    const view = (await one.api.get(`/api/switches/${b.id}/routes`)).body;
    expect(view.applied.map((r: { destination: string }) => r.destination)).toContain(host.route);
    expect(view.reportedAt).not.toBeNull();
  });

  it("a console on instance two hears what instance one's agents report: sessions and agent status", async () => {
    const console = await openConsole(two, bearer(await seedToken(two.db, "viewer")));
    try {
      await console.next("welcome");
      const from = console.mark();
      a.sim.connect("web-1", 11, now);
      const session = await console.next("session", (m) => m.session.commonName === "web-1", from);
      expect(session.session.switchId).toBe(a.id);
      await a.agent.stop();
      const offline = await console.next("agent", (m) => m.status.switchId === a.id && !m.status.online, from);
      expect(offline.status.online).toBe(false);
      expect(console.invalid()).toEqual([]);
    } finally {
      console.close();
    }
  });

  it("backbone link states reported to instance one are listed by instance two, and go with the agent", async () => {
    const network = (await one.api.get(`/api/switches/${a.id}`)).body.networkId as string;
    const subnet = (await one.api.get(`/api/networks/${network}`)).body.backboneSubnet as string;
    const base = networkAddress(parseCidr(subnet) ?? { address: 0, prefix: 32 });
    // A's link process to B, in place before A's agent (re)starts and asks it for its state.
    const link = await startFakeManagement(
      (command) => {
        if (command === "state on") return "SUCCESS: real-time state notification set to ON\r\n";
        if (command === "state") return "1795698533,WAIT,,,,,,\r\nEND\r\n";
        return "ERROR: unknown command\r\n";
      },
      {
        path: backboneLinkPaths({ baseDir: a.sim.baseDir }, (parseIpv4(b.backboneAddress) ?? 0) - base)
          .managementSocket,
      },
    );
    try {
      await a.agent.stop();
      const agent = await startTestAgent({
        api: one.url,
        credential: a.credential,
        switchId: a.id,
        baseDir: a.sim.baseDir,
      });
      nodes.splice(nodes.indexOf(a), 1, { ...a, agent });
      await vi.waitFor(() => expect(link.received, "A's agent asking its link process").toContain("state"), patiently);
      link.send(">STATE:1795698600,CONNECTED,SUCCESS,172.16.0.1,192.0.2.2,1195,,\r\n");
      const listed = async () =>
        (await two.api.get(`/api/networks/${network}/links`)).body as { switchId: string; up: boolean }[];
      await expect
        .poll(listed, patiently)
        .toContainEqual(expect.objectContaining({ switchId: a.id, peerSwitchId: b.id, up: true }));
      await agent.stop();
      await expect.poll(async () => (await listed()).filter((end) => end.switchId === a.id), patiently).toEqual([]);
    } finally {
      await link.close();
    }
  });

  it("an instance shutting down sends its agents to another at once, and their routes stay", async () => {
    a.sim.connect("web-1", 11, now);
    await vi.waitFor(() => expect(has(b.agent.ip.table, host.route, a.backboneAddress)).toBe(true), patiently);
    // B's agent knows both instances; it is on instance two.
    await b.agent.stop();
    const agent = await startTestAgent({
      api: two.url,
      otherApis: [one.url],
      credential: b.credential,
      switchId: b.id,
      baseDir: b.sim.baseDir,
      ip: b.agent.ip,
    });
    nodes.splice(nodes.indexOf(b), 1, { ...b, agent });
    await vi.waitFor(() => expect(agent.channel.connected, "B's agent on instance two").toBe(true), patiently);
    const dropped: string[] = [];
    const watch = setInterval(() => {
      if (!has(agent.ip.table, host.route, a.backboneAddress)) dropped.push(new Date().toISOString());
    }, 5);
    try {
      const connections = agent.channel.connections;
      const closing = performance.now();
      await two.close();
      await vi.waitFor(() => {
        expect(agent.channel.connections, "a new connection").toBeGreaterThan(connections);
        expect(agent.channel.connected, "welcomed by instance one").toBe(true);
      }, patiently);
      expect(agent.channel.api).toBe(one.url);
      console.log(
        `failover: B's agent on instance one ${Math.round(performance.now() - closing)} ms after instance two began to close`,
      );
      await expect
        .poll(async () => (await one.api.get(`/api/switches/${b.id}/status`)).body.online, patiently)
        .toBe(true);
      // Instance one's hello answer (a snapshot from the shared state) is applied by now.
      await vi.waitFor(async () => {
        const status = (await one.api.get(`/api/switches/${b.id}/status`)).body;
        expect(status.revisionApplied, "B's ack to instance one").toBe(status.revisionDesired);
      }, patiently);
    } finally {
      clearInterval(watch);
    }
    expect(dropped, "moments B had no route to the host while moving").toEqual([]);
    // Instance one now serves B: a disconnect on A reaches it.
    a.sim.disconnect("web-1", now);
    await vi.waitFor(
      () => expect(has(agent.ip.table, host.route), "B's route after the disconnect").toBe(false),
      patiently,
    );
  });

  it("an instance started later begins from the table and follows the others from there", async () => {
    a.sim.connect("web-1", 11, now);
    await vi.waitFor(() => expect(has(b.agent.ip.table, host.route, a.backboneAddress)).toBe(true), patiently);
    const three = await instance(one.pki);
    try {
      await expect.poll(() => sessionsOn(three), patiently).toEqual([a.id]);
      // B's agent moves to the new instance: its routes stay (the new instance starts from the shared state).
      await b.agent.stop();
      const moved = await startTestAgent({
        api: three.url,
        credential: b.credential,
        switchId: b.id,
        baseDir: b.sim.baseDir,
      });
      // The first agent's stop left its sim to the new one; only the new agent is stopped at the end.
      nodes.splice(nodes.indexOf(b), 1, { ...b, agent: moved });
      await vi.waitFor(
        () =>
          expect(has(moved.ip.table, host.route, a.backboneAddress), "B's route via A, from instance three").toBe(true),
        patiently,
      );
      a.sim.disconnect("web-1", now);
      await vi.waitFor(
        () => expect(has(moved.ip.table, host.route), "B's route after the disconnect").toBe(false),
        patiently,
      );
    } finally {
      await three.close();
    }
  });
});
