import { rmSync } from "node:fs";
import { backboneLinkPaths, networkAddress, parseCidr, parseIpv4 } from "@switchboard/shared";
import { type FakeManagement, startFakeManagement } from "@switchboard/testkit/agent/fake-management";
import { type SwitchSim, startSwitchSim } from "@switchboard/testkit/agent/switch-sim";
import { startTestAgent, type TestAgent } from "@switchboard/testkit/agent/test-agent";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it, vi } from "vitest";
import { enrollSwitch, type LiveApi, networkWithSwitches, startLiveApi } from "../support/live-api.ts";
import { seedToken } from "../support/test-app.ts";
import { type DatabaseKind, describeEachDatabase } from "../support/test-database.ts";
import { patiently } from "../support/waits.ts";
import { bearer, type LiveConsole, openConsole } from "./live-console.ts";

interface Node {
  id: string;
  credential: string;
  sim: SwitchSim;
  agent: TestAgent;
}

/** What the link process's management socket answers to `state`; >STATE: lines change it later. */
function fakeLinkProcess(baseDir: string, peerOffset: number): Promise<FakeManagement> {
  return startFakeManagement(
    (command) => {
      if (command === "state on") return "SUCCESS: real-time state notification set to ON\r\n";
      if (command === "state") return "1795698533,WAIT,,,,,,\r\nEND\r\n";
      return "ERROR: unknown command\r\n";
    },
    { path: backboneLinkPaths({ baseDir }, peerOffset).managementSocket },
  );
}

describeEachDatabase("the live feed of sessions, agents and backbone links, from real agents", (kind: DatabaseKind) => {
  let live: LiveApi;
  let console: LiveConsole;
  // Each test gets its own network: switches A and B with agents, hosts web-1 and db-1, A's link to B.
  let networkId: string;
  let a: Node;
  let b: Node;
  let hostId: string;
  let linkAtoB: FakeManagement;
  const now = Math.floor(Date.now() / 1000);
  const hostNames = async (filter: string) =>
    (await live.api.get(`/api/hosts?networkId=${networkId}&${filter}`)).body.items.map(
      (host: { commonName: string }) => host.commonName,
    );
  /** The next session message about this test's network. */
  const nextSession = (from: number, commonName = "web-1") =>
    console.next("session", (m) => m.session.networkId === networkId && m.session.commonName === commonName, from);

  beforeAll(async () => {
    live = await startLiveApi(kind, { pollMs: 500 });
    // A console that can only read: everything here is for every role.
    console = await openConsole(live, bearer(await seedToken(live.db, "viewer")));
    await console.next("welcome");
  });
  afterAll(async () => {
    console?.close();
    await live.close();
    expect(console?.invalid() ?? []).toEqual([]);
  });

  beforeEach(async () => {
    const created = await networkWithSwitches(live.api, 2);
    networkId = created.networkId;
    hostId = (await live.api.post("/api/hosts", { networkId, commonName: "web-1" })).body.id;
    await live.api.post("/api/hosts", { networkId, commonName: "db-1" });
    const network = (await live.api.get(`/api/networks/${networkId}`)).body;
    const base = networkAddress(parseCidr(network.backboneSubnet) ?? { address: 0, prefix: 32 });
    const [idA, idB] = created.switches as [string, string];
    const backboneOfB = (await live.api.get(`/api/switches/${idB}`)).body.backboneAddress;
    const nodes: Node[] = [];
    for (const id of [idA, idB]) {
      const sim = await startSwitchSim();
      if (id === idA) linkAtoB = await fakeLinkProcess(sim.baseDir, (parseIpv4(backboneOfB) ?? 0) - base);
      const credential = await enrollSwitch(live, id);
      const agent = await startTestAgent({ api: live.url, credential, switchId: id, baseDir: sim.baseDir });
      nodes.push({ id, credential, sim, agent });
    }
    [a, b] = nodes as [Node, Node];
    for (const node of nodes) {
      await vi.waitFor(
        () => expect(node.sim.management.connections, "the agent's management connection").toBeGreaterThan(0),
        patiently,
      );
    }
    await vi.waitFor(
      () => expect(linkAtoB.received, "A's agent to ask its link process for its state").toContain("state"),
      patiently,
    );
  });
  afterEach(async () => {
    for (const node of [a, b]) {
      await node?.agent.stop();
      await node?.sim.close();
      if (node) rmSync(node.sim.baseDir, { recursive: true, force: true });
    }
    await linkAtoB?.close();
  });

  // How soon is apps/api/bench/live.ts's figure (target 1 s); here only what is told, in order.
  it("tells the console that a host came online, with its session", async () => {
    const from = console.mark();
    a.sim.connect("web-1", 11, now);
    const message = await nextSession(from);
    expect(message).toMatchObject({
      change: "connected",
      previousSwitchId: null,
      session: { hostId, commonName: "web-1", switchId: a.id, networkId, realAddress: "198.51.100.7:40011" },
    });
    // The same session as REST lists it.
    const listed = (await live.api.get(`/api/sessions?hostId=${hostId}`)).body;
    expect(listed).toEqual([message.session]);
    // The hosts list filters on it (read-your-writes: the session batch is written first).
    expect(await hostNames(`switchId=${a.id}`)).toEqual(["web-1"]);
    expect(await hostNames(`switchId=${b.id}`)).toEqual([]);
    expect(await hostNames("online=true")).toEqual(["web-1"]);
    expect(await hostNames("online=false")).toEqual(["db-1"]);
  });

  it("tells a roam to another switch as one `roamed` message naming the switch the host left", async () => {
    a.sim.connect("web-1", 11, now);
    await nextSession(0);
    // db-1 on A is the marker: its disconnect follows A's late report through the same hook and channel.
    a.sim.connect("db-1", 12, now);
    await nextSession(0, "db-1");

    const from = console.mark();
    b.sim.connect("web-1", 21, now + 2); // Newer than A's, and not ahead of the API's clock by more than the 5 s it allows.
    const message = await nextSession(from);
    expect(message).toMatchObject({ change: "roamed", previousSwitchId: a.id, session: { switchId: b.id, hostId } });
    expect(await hostNames(`switchId=${b.id}&online=true`)).toEqual(["web-1"]);
    expect(await hostNames(`switchId=${a.id}`)).toEqual(["db-1"]);

    // A reporting the old session's end late changes nothing: it was retired already.
    a.sim.disconnect("web-1", now);
    a.sim.disconnect("db-1", now);
    await nextSession(from, "db-1");
    expect(console.since("session", from).filter((m) => m.session.networkId === networkId)).toEqual([
      message,
      expect.objectContaining({ change: "disconnected", session: expect.objectContaining({ commonName: "db-1" }) }),
    ]);
  });

  it("tells a disconnect", async () => {
    b.sim.connect("web-1", 21, now);
    await nextSession(0);
    const from = console.mark();
    b.sim.disconnect("web-1", now);
    expect(await nextSession(from)).toMatchObject({
      change: "disconnected",
      session: { switchId: b.id, hostId },
    });
    expect(await hostNames("online=true")).toEqual([]);
    expect(await hostNames("online=false")).toEqual(["db-1", "web-1"]);
  });

  it("tells backbone link ends going up and down, and lists them over REST", async () => {
    const from = console.mark();
    linkAtoB.send(">STATE:1795698600,CONNECTED,SUCCESS,172.16.0.1,192.0.2.2,1195,,\r\n");
    const up = await console.next("link", (m) => m.switchId === a.id && m.up, from);
    expect(up).toMatchObject({ networkId, peerSwitchId: b.id });
    const ends = (await live.api.get(`/api/networks/${networkId}/links`)).body;
    expect(ends).toContainEqual({
      switchId: a.id,
      peerSwitchId: b.id,
      up: true,
      // When OpenVPN reached the state; the report and the message carry the API's time.
      since: new Date(1795698600 * 1000).toISOString(),
      reportedAt: up.at,
    });

    // Marked after the up message: the end's first report (down, before the tunnel was up) may
    // have come after `from` on a busy machine.
    const afterUp = console.mark();
    linkAtoB.send(">STATE:1795698700,RECONNECTING,ping-restart,,,,,\r\n");
    await console.next("link", (m) => m.switchId === a.id && !m.up, afterUp);
    expect((await live.api.get(`/api/networks/${networkId}/links`)).body).toContainEqual(
      expect.objectContaining({ switchId: a.id, peerSwitchId: b.id, up: false }),
    );
    expect((await live.api.get("/api/networks/00000000-0000-4000-8000-000000000000/links")).status).toBe(404);
  });

  it("tells an agent going offline and coming back, with its status as REST gives it", async () => {
    const from = console.mark();
    await b.agent.stop();
    const offline = await console.next("agent", (m) => m.status.switchId === b.id && !m.status.online, from);
    expect(offline).toMatchObject({ networkId });
    expect(offline.status).toEqual((await live.api.get(`/api/switches/${b.id}/status`)).body);
    // Its link ends are unknown now, not down.
    expect(
      (await live.api.get(`/api/networks/${networkId}/links`)).body.map((e: { switchId: string }) => e.switchId),
    ).not.toContain(b.id);

    b.agent = await startTestAgent({ api: live.url, credential: b.credential, switchId: b.id, baseDir: b.sim.baseDir });
    const online = await console.next("agent", (m) => m.status.switchId === b.id && m.status.online, from);
    expect(online.status.agentVersion).toBe("0.1.0-test");

    // A change for the switches: each agent's ack of the new revision is told.
    const before = console.mark();
    expect((await live.api.patch(`/api/hosts/${hostId}`, { description: "new revision" })).status).toBe(200);
    const acked = await console.next(
      "agent",
      (m) => m.status.switchId === b.id && m.status.revisionApplied === m.status.revisionDesired,
      before,
    );
    expect(acked.status.revisionApplied).toBeGreaterThan(online.status.revisionApplied ?? -1);
  });
});
