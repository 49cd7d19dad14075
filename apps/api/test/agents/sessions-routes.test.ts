import { rmSync } from "node:fs";
import type { FakeKernelRoute } from "@switchboard/testkit/agent/fake-ip";
import { type SwitchSim, startSwitchSim } from "@switchboard/testkit/agent/switch-sim";
import { startTestAgent, type TestAgent } from "@switchboard/testkit/agent/test-agent";
import { afterAll, beforeAll, expect, it } from "vitest";
import { enrollSwitch, type LiveApi, networkWithSwitches, startLiveApi, until } from "../support/live-api.ts";
import { type DatabaseKind, describeEachDatabase } from "../support/test-database.ts";

interface Node {
  id: string;
  dataAddress: string;
  backboneAddress: string;
  sim: SwitchSim;
  agent: TestAgent;
}

const has = (table: FakeKernelRoute[], dst: string, gateway?: string) =>
  table.some((r) => r.dst === dst && (gateway === undefined || r.gateway === gateway));

describeEachDatabase("sessions and routes across three switches over real websockets", (kind: DatabaseKind) => {
  let live: LiveApi;
  let networkId: string;
  let a: Node;
  let b: Node;
  let c: Node;
  const hosts: Record<string, { id: string; address: string }> = {};
  const now = Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    live = await startLiveApi(kind, { pollMs: 500 });
    const created = await networkWithSwitches(live.api, 3);
    networkId = created.networkId;
    for (const [name, subnets] of [
      ["web-1", ["192.168.77.0/24"]],
      ["db-1", []],
    ] as const) {
      const host = await live.api.post("/api/hosts", { networkId, commonName: name, subnets });
      hosts[name] = { id: host.body.id, address: host.body.address };
    }
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
      await until(() => node.agent.ip.table.length === 2, "the first snapshot's routes");
      await until(() => node.sim.management.connections > 0, "the agent's management connection");
    }
  });
  afterAll(async () => {
    for (const node of [a, b, c]) {
      await node?.agent.stop();
      await node?.sim.close();
      if (node) rmSync(node.sim.baseDir, { recursive: true, force: true });
    }
    await live.close();
  });

  const web = () => hosts["web-1"] as { id: string; address: string };
  const sessions = async (query: string) =>
    (await live.api.get(`/api/sessions?${query}`)).body as { switchId: string }[];

  it("a session on A gives B and C a route to the host (and its subnet) via A; A keeps none for it", async () => {
    a.sim.connect("web-1", 11, now);
    const dst = `${web().address}/32`;
    await until(
      () => has(b.agent.ip.table, dst, a.backboneAddress) && has(c.agent.ip.table, dst, a.backboneAddress),
      "the host route on B and C",
    );
    expect(has(b.agent.ip.table, "192.168.77.0/24", a.backboneAddress)).toBe(true);
    expect(has(a.agent.ip.table, dst)).toBe(false);
    // A routes the subnet behind its own host into its tun device, via the host's address.
    await until(() => has(a.agent.ip.table, "192.168.77.0/24", web().address), "the local subnet route on A");

    const listed = await sessions(`hostId=${web().id}`);
    expect(listed).toEqual([
      expect.objectContaining({ switchId: a.id, commonName: "web-1", realAddress: "198.51.100.7:40011" }),
    ]);
    expect((await sessions(`switchId=${b.id}`)).length).toBe(0);
    expect((await sessions(`networkId=${networkId}`)).length).toBe(1);
  });

  it("a roam to B moves the route to B, even when A reports the old session's end afterwards", async () => {
    const dst = `${web().address}/32`;
    b.sim.connect("web-1", 21, now + 10);
    await until(
      () => has(c.agent.ip.table, dst, b.backboneAddress) && !has(b.agent.ip.table, dst),
      "the route to follow the host to B",
    );
    expect((await sessions(`hostId=${web().id}`)).map((s) => s.switchId)).toEqual([b.id]);
    // A learns late that its old session ended: its own rule then lets the route via B in, and
    // the API does not take that late disconnect for the host leaving B.
    a.sim.disconnect("web-1", now);
    await until(() => has(a.agent.ip.table, dst, b.backboneAddress), "A's route via B");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(has(c.agent.ip.table, dst, b.backboneAddress)).toBe(true);
    expect((await sessions(`hostId=${web().id}`)).map((s) => s.switchId)).toEqual([b.id]);
    const retired = await live.db.prisma.session.findFirstOrThrow({ where: { hostId: web().id, switchId: a.id } });
    expect(retired.endReason).toBe("roamed");
  });

  it("a disconnect withdraws the host's routes everywhere", async () => {
    const dst = `${web().address}/32`;
    b.sim.disconnect("web-1", now + 10);
    await until(
      () => !has(a.agent.ip.table, dst) && !has(c.agent.ip.table, dst) && !has(a.agent.ip.table, "192.168.77.0/24"),
      "the routes to go",
    );
    expect(await sessions(`hostId=${web().id}`)).toEqual([]);
  });

  it("shows each switch's routes, desired and as applied", async () => {
    const db = hosts["db-1"] as { id: string; address: string };
    c.sim.connect("db-1", 31, now + 20);
    await until(() => has(a.agent.ip.table, `${db.address}/32`), "db-1's route on A");
    await until(async () => {
      const view = (await live.api.get(`/api/switches/${a.id}/routes`)).body;
      return view.applied?.length === view.desired.length && view.desired.length === 3;
    }, "A's route report to match");
    const view = (await live.api.get(`/api/switches/${a.id}/routes`)).body;
    expect(view.desired.map((r: { destination: string }) => r.destination).sort()).toEqual(
      [`${b.dataAddress}/32`, `${c.dataAddress}/32`, `${db.address}/32`].sort(),
    );
    expect(view.failed).toEqual([]);
  });

  it("kills a session on the switch that holds it, toward the next switch when asked, and audits it", async () => {
    const db = hosts["db-1"] as { id: string; address: string };
    const answer = await live.api.post(`/api/hosts/${db.id}/kill-session`, { nextRemote: true });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ switchId: c.id, ok: true });
    expect(c.sim.management.received).toContain("client-kill 31 RESTART,[N]");
    const audit = await live.db.prisma.auditEvent.findFirstOrThrow({ orderBy: { id: "desc" } });
    expect(audit).toMatchObject({ action: "host.kill-session", targetId: db.id });
    expect((await live.api.post(`/api/hosts/${web().id}/kill-session`, {})).status).toBe(409);
  });

  it("revoking a host's certificate asks its switch to kill the session", async () => {
    const db = hosts["db-1"] as { id: string; address: string };
    const cert = await live.api.post(`/api/hosts/${db.id}/certificate`, {});
    expect(cert.status).toBe(201);
    const before = c.sim.management.received.filter((line) => line === "client-kill 31").length;
    expect((await live.api.post(`/api/certificates/${cert.body.id}/revoke`, { reason: "keyCompromise" })).status).toBe(
      200,
    );
    await until(
      () => c.sim.management.received.filter((line) => line === "client-kill 31").length === before + 1,
      "client-kill after revocation",
    );
  });
});
