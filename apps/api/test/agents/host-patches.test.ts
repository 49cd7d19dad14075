import {
  applyDelta,
  computeRoutes,
  type DesiredState,
  type DesiredStateDelta,
  type Route,
  type RouteSession,
} from "@switchboard/shared";
import { openRawSocket, type RawSocket } from "@switchboard/testkit/agent/raw-socket";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { channelUrl } from "../../../agent/src/channel/channel-client.ts";
import * as networkView from "../../src/features/agents/state/network-view.ts";
import { certificateAuthority } from "../../src/features/pki/certificate-authority.ts";
import { enrollSwitch, type LiveApi, networkWithSwitches, startLiveApi } from "../support/live-api.ts";
import { type DatabaseKind, describeEachDatabase } from "../support/test-database.ts";
import { patiently } from "../support/waits.ts";

// Every load of a network view goes through this spy, so a test can tell a patch from a reload.
vi.mock("../../src/features/agents/state/network-view.ts", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../../src/features/agents/state/network-view.ts")>();
  return { ...actual, loadNetworkView: vi.fn(actual.loadNetworkView) };
});
const loads = () => vi.mocked(networkView.loadNetworkView).mock.calls.length;
/** The real loader, for the test's own fresh views: not counted as the dispatcher's loads. */
const freshView: typeof networkView.loadNetworkView = (...args) =>
  (vi.mocked(networkView.loadNetworkView).getMockImplementation() as typeof networkView.loadNetworkView)(...args);

/** An agent on a raw websocket: applies every frame with the shared delta rules and acks it. */
interface FakeAgent {
  readonly switchId: string;
  readonly raw: RawSocket;
  state: DesiredState | undefined;
  deltas: DesiredStateDelta[];
  refused: string[];
}

async function connectAgent(live: LiveApi, switchId: string): Promise<FakeAgent> {
  const credential = await enrollSwitch(live, switchId);
  const raw = await openRawSocket(channelUrl(live.url), { authorization: `Bearer ${credential}` });
  const agent: FakeAgent = { switchId, raw, state: undefined, deltas: [], refused: [] };
  raw.socket.on("message", (data) => {
    const frame = JSON.parse(String(data));
    if (frame.type === "desired-state") agent.state = frame;
    else if (frame.type === "desired-state-delta") {
      agent.deltas.push(frame);
      const result = applyDelta(agent.state, frame);
      if (result.ok) agent.state = result.state;
      else agent.refused.push(result.reason);
    } else return;
    raw.socket.send(JSON.stringify({ type: "ack", revision: frame.revision, ok: true, errors: [], resync: false }));
  });
  raw.socket.send(JSON.stringify({ type: "hello", protocolVersion: 1, agentVersion: "raw", switchId, revision: null }));
  await vi.waitFor(() => expect(agent.state, "the first snapshot").toBeDefined(), patiently);
  return agent;
}

const byName = <T extends { commonName: string }>(items: readonly T[]) =>
  [...items].sort((a, b) => a.commonName.localeCompare(b.commonName));
const byDestination = (routes: readonly Route[]) =>
  [...routes].sort((a, b) => a.destination.localeCompare(b.destination));

describeEachDatabase("host writes patch the dispatcher's view and send just that host", (kind: DatabaseKind) => {
  let live: LiveApi;
  let networkId: string;
  let switches: string[];
  let agents: FakeAgent[];
  /** The sessions this test reported, as the route computation sees them. */
  const sessions = new Map<string, RouteSession>();
  // Sessions are dated in the past (never ahead of the API's clock), each later than the one before.
  let now = Date.now() - 600_000;

  beforeAll(async () => {
    // A slow poll: the only path to agents here is the change each write emits (and its poke).
    live = await startLiveApi(kind, { tickMs: 10, pollMs: 60_000 });
    ({ networkId, switches } = await networkWithSwitches(live.api, 3));
    agents = [];
    for (const id of switches) agents.push(await connectAgent(live, id));
  });
  afterAll(async () => {
    for (const agent of agents ?? []) agent.raw.socket.close();
    await live?.close();
  });

  const settled = async () => {
    // Every agent has acked the database's revision: nothing is left in flight.
    const { revision } = await live.db.prisma.network.findUniqueOrThrow({ where: { id: networkId } });
    await vi.waitFor(async () => {
      for (const id of switches) {
        const status = (await live.api.get(`/api/switches/${id}/status`)).body;
        expect(status.revisionApplied, `switch ${id} at revision ${revision}`).toBe(revision);
      }
    }, patiently);
  };
  /** A session on `agent`, once every switch has the host (the API ignores sessions of hosts it has not sent). */
  const connect = async (agent: FakeAgent, commonName: string) => {
    await settled();
    now += 1000;
    const connectedAt = new Date(now).toISOString();
    sessions.set(commonName, { commonName, switchId: agent.switchId, connectedAt });
    const session = {
      commonName,
      realAddress: "198.51.100.7:1194",
      virtualAddress: null,
      clientId: sessions.size,
      connectedAt,
      bytesReceived: 0,
      bytesSent: 0,
    };
    agent.raw.socket.send(
      JSON.stringify({ type: "sessions", events: [{ event: "connect", source: "hook", at: connectedAt, session }] }),
    );
  };
  /** Every agent's state equals one built afresh from the database and the sessions, order aside. */
  const expectConverged = async () => {
    await settled();
    // Session changes carry no revision: their routes are waited for, not assumed.
    await vi.waitFor(() => expectMatchesDatabase(), patiently);
  };
  const expectMatchesDatabase = async () => {
    const view = await freshView(live.db.prisma, certificateAuthority(live.pki), networkId);
    if (!view) throw new Error("network gone");
    const live_ = [...sessions.values()].filter((s) => view.hostIds.has(s.commonName));
    const table = computeRoutes({
      network: view.network,
      switches: view.switches,
      hosts: view.routeHosts,
      sessions: live_,
    });
    for (const agent of agents) {
      expect(agent.refused, `deltas ${agent.switchId} refused`).toEqual([]);
      const state = agent.state as DesiredState;
      expect(byName(state.hosts), `hosts of ${agent.switchId}`).toEqual(byName(view.hosts));
      expect(byDestination(state.routes), `routes of ${agent.switchId}`).toEqual(
        byDestination(table.get(agent.switchId) ?? []),
      );
    }
  };
  const post = async (path: string, body: unknown) => {
    const response = await live.api.post(path, body);
    expect(response.status, response.text).toBe(201);
    return response.body;
  };

  it("a created host reaches every switch as one delta with exactly that host, without a reload", async () => {
    await settled();
    const before = loads();
    const marks = agents.map((a) => a.deltas.length);
    const host = await post("/api/hosts", { networkId, commonName: "new-1" });
    await settled();
    expect(loads(), "network views loaded").toBe(before);
    agents.forEach((agent, i) => {
      const sent = agent.deltas.slice(marks[i]);
      expect(sent, `deltas to ${agent.switchId}`).toHaveLength(1);
      expect(sent[0]?.hosts?.upsert.map((h) => [h.commonName, h.address])).toEqual([["new-1", host.address]]);
      expect(sent[0]?.hosts?.remove).toEqual([]);
      expect(sent[0]).not.toHaveProperty("server");
      expect(sent[0]).not.toHaveProperty("links");
    });
    await expectConverged();
  });

  it("a connected host's subnet change and its deletion move its routes, and the delete removes its file", async () => {
    const host = await post("/api/hosts", { networkId, commonName: "roaming-1" });
    const [a, b] = agents as [FakeAgent, FakeAgent];
    await connect(a, "roaming-1");
    await vi.waitFor(
      () =>
        expect(
          b.state?.routes.map((r) => r.destination),
          JSON.stringify(a.raw.received.filter((f) => f.type === "error")),
        ).toContain(`${host.address}/32`),
      patiently,
    );
    await settled();
    const before = loads();
    const mark = b.deltas.length;
    const patched = await live.api.patch(`/api/hosts/${host.id}`, { subnets: ["192.168.41.0/24"] });
    expect(patched.status, patched.text).toBe(200);
    await settled();
    const change = b.deltas.slice(mark);
    expect(change).toHaveLength(1);
    expect(change[0]?.hosts?.upsert.map((h) => h.subnets)).toEqual([["192.168.41.0/24"]]);
    expect(change[0]?.routes?.upsert.map((r) => r.destination)).toEqual(["192.168.41.0/24"]);
    await expectConverged();

    const disabled = await live.api.patch(`/api/hosts/${host.id}`, { enabled: false });
    expect(disabled.status, disabled.text).toBe(200);
    await settled();
    expect(b.state?.hosts.find((h) => h.commonName === "roaming-1")?.clientConfig).toBeNull();
    expect(b.state?.routes.map((r) => r.destination)).not.toContain(`${host.address}/32`);
    await expectConverged();

    expect((await live.api.delete(`/api/hosts/${host.id}`)).status).toBe(204);
    await settled();
    expect(loads(), "network views loaded").toBe(before);
    expect(b.deltas.at(-1)?.hosts?.remove).toEqual(["roaming-1"]);
    expect(b.state?.hosts.map((h) => h.commonName)).not.toContain("roaming-1");
    await expectConverged();
  });

  it("a revision bumped elsewhere (another instance) makes the next change reload, and still converges", async () => {
    await settled();
    const before = loads();
    await live.db.prisma.$executeRawUnsafe(
      `UPDATE "Network" SET revision = revision + 1 WHERE id = '${networkId}'::uuid`,
    );
    await post("/api/hosts", { networkId, commonName: "after-gap" });
    await settled();
    expect(loads(), "network views loaded").toBeGreaterThan(before);
    await expectConverged();
  });

  it("a switch change still reloads the view", async () => {
    await settled();
    const before = loads();
    const patched = await live.api.patch(`/api/switches/${switches[2]}`, { endpointHost: "moved.example.net" });
    expect(patched.status, patched.text).toBe(200);
    await settled();
    expect(loads(), "network views loaded").toBeGreaterThan(before);
    await expectConverged();
  });

  it("after random creates, patches, sessions and deletes every agent holds what the database says", async () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)] as T;
    const hosts: { id: string; commonName: string }[] = [];
    let counter = 0;
    for (let step = 0; step < 60; step++) {
      const roll = rand();
      if (hosts.length < 3 || roll < 0.35) {
        const commonName = `prop-${counter++}`;
        const subnets = rand() < 0.3 ? [`192.168.${100 + counter}.0/24`] : [];
        const host = await post("/api/hosts", { networkId, commonName, subnets });
        hosts.push({ id: host.id, commonName });
      } else if (roll < 0.55) {
        const host = pick(hosts);
        const body =
          rand() < 0.5 ? { enabled: rand() < 0.5 } : { subnets: rand() < 0.5 ? [] : [`192.168.${200 + step}.0/24`] };
        expect((await live.api.patch(`/api/hosts/${host.id}`, body)).status).toBe(200);
      } else if (roll < 0.85) {
        await connect(pick(agents), pick(hosts).commonName);
      } else {
        const host = pick(hosts);
        expect((await live.api.delete(`/api/hosts/${host.id}`)).status).toBe(204);
        hosts.splice(hosts.indexOf(host), 1);
        sessions.delete(host.commonName);
      }
    }
    await expectConverged();
  });
});
