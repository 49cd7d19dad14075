import { rmSync } from "node:fs";
import { PROTOCOL_VERSION, type Session } from "@switchboard/shared";
import type { FakeKernelRoute } from "@switchboard/testkit/agent/fake-ip";
import { openRawSocket, type RawSocket } from "@switchboard/testkit/agent/raw-socket";
import { type SwitchSim, startSwitchSim } from "@switchboard/testkit/agent/switch-sim";
import { startTestAgent, type TestAgent } from "@switchboard/testkit/agent/test-agent";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it, vi } from "vitest";
import { bearer, type LiveConsole, openConsole } from "../live/live-console.ts";
import { apiClient } from "../support/api-client.ts";
import { enrollSwitch, type LiveApi, networkWithSwitches, startLiveApi } from "../support/live-api.ts";
import { seedToken } from "../support/test-app.ts";
import { type DatabaseKind, describeEachDatabase } from "../support/test-database.ts";
import { patiently } from "../support/waits.ts";

/**
 * Attacks by a compromised switch on the session table (issue 13). Routes follow sessions, so a
 * switch that could claim any host pulled that host's traffic: it claimed hosts connected
 * elsewhere, dated its claims in the future so they won forever, and kept claiming after its
 * credential was revoked. The rogue here is a bare websocket holding a real agent credential;
 * the honest switches are real agents on simulated OpenVPN.
 */

/** The rogue's claims must be backed within this: short for the deadline test, long enough to watch routes move first. */
const CLAIM_WITHIN_MS = 8000;

interface Honest {
  id: string;
  backboneAddress: string;
  sim: SwitchSim;
  agent: TestAgent;
}

interface Rogue {
  id: string;
  backboneAddress: string;
  credential: string;
  socket: RawSocket;
  claim(commonName: string, connectedAt: number): void;
  /** The API's next `session-snapshot` command from now on. */
  nextSnapshotRequest(): Promise<{ id: string }>;
  answer(request: { id: string }, sessions: Session[]): void;
  /** The next request, answered with `sessions` at once. */
  answerNextSnapshotRequest(sessions: Session[]): Promise<void>;
}

const has = (table: FakeKernelRoute[], dst: string, gateway?: string) =>
  table.some((r) => r.dst === dst && (gateway === undefined || r.gateway === gateway));

const session = (commonName: string, connectedAtSeconds: number): Session => ({
  commonName,
  realAddress: "203.0.113.66:1194",
  virtualAddress: null,
  clientId: 66,
  connectedAt: new Date(connectedAtSeconds * 1000).toISOString(),
  bytesReceived: 0,
  bytesSent: 0,
});

describeEachDatabase("a compromised switch cannot take hosts it does not have", (kind: DatabaseKind) => {
  let live: LiveApi;
  let networkId: string;
  let a: Honest;
  let b: Honest;
  let rogue: Rogue;
  let web: { id: string; route: string };
  let db: { id: string; route: string };
  let console: LiveConsole;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    live = await startLiveApi(kind, { pollMs: 500, claimWithinMs: CLAIM_WITHIN_MS });
    console = await openConsole(live, bearer(await seedToken(live.db, "viewer")));
  }, 180_000);
  afterAll(async () => {
    console?.close();
    await live?.close();
  });

  async function honest(id: string): Promise<Honest> {
    const sw = (await live.api.get(`/api/switches/${id}`)).body;
    const sim = await startSwitchSim();
    const agent = await startTestAgent({
      api: live.url,
      credential: await enrollSwitch(live, id),
      switchId: id,
      baseDir: sim.baseDir,
    });
    return { id, backboneAddress: sw.backboneAddress, sim, agent };
  }

  async function rogueSwitch(id: string): Promise<Rogue> {
    const sw = (await live.api.get(`/api/switches/${id}`)).body;
    const credential = await enrollSwitch(live, id);
    const socket = await openRawSocket(`${live.url.replace(/^http/, "ws")}/api/agent/channel`, {
      authorization: `Bearer ${credential}`,
    });
    socket.socket.send(
      JSON.stringify({
        type: "hello",
        protocolVersion: PROTOCOL_VERSION,
        agentVersion: "rogue",
        switchId: id,
        revision: null,
      }),
    );
    await socket.next((f) => f.type === "welcome");
    const send = (message: unknown) => socket.socket.send(JSON.stringify(message));
    const self: Rogue = {
      id,
      backboneAddress: sw.backboneAddress,
      credential,
      socket,
      claim(commonName, connectedAt) {
        const at = new Date().toISOString();
        send({
          type: "sessions",
          events: [{ event: "connect", source: "hook", at, session: session(commonName, connectedAt) }],
        });
      },
      async nextSnapshotRequest() {
        const from = socket.received.length;
        const request = await socket.next(
          (f) =>
            socket.received.indexOf(f) >= from &&
            f.type === "command" &&
            (f.command as { kind?: string }).kind === "session-snapshot",
          patiently.timeout,
        );
        return { id: String(request.id) };
      },
      answer(request, sessions) {
        send({ type: "session-snapshot", takenAt: new Date().toISOString(), sessions });
        send({ type: "command-result", id: request.id, ok: true });
      },
      async answerNextSnapshotRequest(sessions) {
        self.answer(await self.nextSnapshotRequest(), sessions);
      },
    };
    return self;
  }

  beforeEach(async () => {
    const created = await networkWithSwitches(live.api, 3);
    networkId = created.networkId;
    const host = async (commonName: string) => {
      const response = await live.api.post("/api/hosts", { networkId, commonName });
      expect(response.status, response.text).toBe(201);
      return { id: response.body.id as string, route: `${response.body.address}/32` };
    };
    web = await host("web-1");
    db = await host("db-1");
    const [aId, bId, rId] = created.switches as [string, string, string];
    a = await honest(aId);
    b = await honest(bId);
    rogue = await rogueSwitch(rId);
    for (const node of [a, b]) {
      await vi.waitFor(() => expect(node.agent.ip.table, "the first snapshot's routes").toHaveLength(2), patiently);
      await vi.waitFor(
        () => expect(node.sim.management.connections, "the agent's management connection").toBeGreaterThan(0),
        patiently,
      );
    }
  });
  afterEach(async () => {
    rogue?.socket.socket.terminate();
    for (const node of [a, b]) {
      await node?.agent.stop();
      await node?.sim.close();
      if (node) rmSync(node.sim.baseDir, { recursive: true, force: true });
    }
  });

  const switchesOf = async (hostId: string) =>
    ((await live.api.get(`/api/sessions?hostId=${hostId}`)).body as { switchId: string }[]).map((s) => s.switchId);
  const routedVia = (via: { backboneAddress: string }, route: string) =>
    has(b.agent.ip.table, route, via.backboneAddress);

  /** web-1 on A, with B routing it there. */
  async function webOnA(connectedAt = now() - 60) {
    a.sim.connect("web-1", 11, connectedAt);
    await vi.waitFor(() => expect(routedVia(a, web.route), "B's route to web-1 via A").toBe(true), patiently);
    await expect.poll(() => switchesOf(web.id), patiently).toEqual([a.id]);
  }

  it("withdraws a claim to a host connected elsewhere that the claimant's status 3 does not back, and flags it", async () => {
    await webOnA();
    const mark = console.mark();
    const asked = rogue.nextSnapshotRequest();
    rogue.claim("web-1", now());
    const request = await asked;
    // Routes follow the claim at once (a real roam must not wait), until the rogue has to back it.
    await vi.waitFor(() => expect(routedVia(rogue, web.route), "B's route via the rogue").toBe(true), patiently);
    rogue.answer(request, []);
    await vi.waitFor(() => expect(routedVia(a, web.route), "B's route back via A").toBe(true), patiently);
    await expect.poll(() => switchesOf(web.id), patiently).toEqual([a.id]);

    const flagged = await console.next("session-conflict", (m) => m.conflict.hostId === web.id, mark);
    expect(flagged.conflict).toMatchObject({ kind: "withdrawn", claimedBy: rogue.id, heldBy: a.id, networkId });
    const status = (await live.api.get(`/api/switches/${rogue.id}/status`)).body;
    expect(status.claimConflict).toMatchObject({ kind: "withdrawn", hostId: web.id, commonName: "web-1" });
    const conflicts = (await live.api.get(`/api/sessions/conflicts?hostId=${web.id}`)).body;
    expect(conflicts[0]).toMatchObject({ kind: "withdrawn", claimedBy: rogue.id });
    await expect
      .poll(
        () =>
          live.db.prisma.auditEvent.findFirst({
            where: { action: "session.claim-withdrawn", targetId: web.id, actorId: rogue.id, actorType: "agent" },
          }),
        patiently,
      )
      .not.toBeNull();
  });

  it("withdraws a claim the claimant does not back in time, however often it renews it", async () => {
    await webOnA();
    const mark = console.mark();
    rogue.claim("web-1", now());
    await rogue.socket.next((f) => f.type === "command", patiently.timeout);
    // The rogue never answers; it reports a newer session of its claim every two seconds instead.
    const renewing = setInterval(() => rogue.claim("web-1", now()), 2000);
    try {
      const flagged = await console.next("session-conflict", (m) => m.conflict.hostId === web.id, mark);
      expect(flagged.conflict).toMatchObject({ kind: "withdrawn", claimedBy: rogue.id, heldBy: a.id });
      expect(flagged.conflict.reason).toContain("did not answer");
    } finally {
      clearInterval(renewing);
    }
  });

  it("refuses a claim dated in the future with a protocol error naming the field, and changes nothing", async () => {
    await webOnA();
    const from = rogue.socket.received.length;
    rogue.claim("web-1", now() + 3600);
    const error = await rogue.socket.next((f) => rogue.socket.received.indexOf(f) >= from && f.type === "error");
    expect(error).toMatchObject({ code: "malformed" });
    expect(error.message).toMatch(/events\[0\]\.session\.connectedAt .* at most 5 s of clock skew/);
    // The error is sent once the message was handled: nothing moved.
    expect(await switchesOf(web.id)).toEqual([a.id]);
    expect(routedVia(a, web.route)).toBe(true);
  });

  it("keeps the routes with a claim backed by a lying snapshot (order of arrival), but flags the double claim", async () => {
    await webOnA();
    const mark = console.mark();
    const claimedAt = now();
    const answered = rogue.answerNextSnapshotRequest([session("web-1", claimedAt)]);
    rogue.claim("web-1", claimedAt);
    await answered;
    // A's OpenVPN still lists web-1: two switches claim it at once.
    const flagged = await console.next("session-conflict", (m) => m.conflict.kind === "double", mark);
    expect(flagged.conflict).toMatchObject({ hostId: web.id, claimedBy: rogue.id, heldBy: rogue.id });
    expect(await switchesOf(web.id)).toEqual([rogue.id]);
    expect(
      await live.db.prisma.auditEvent.count({ where: { action: "session.claim-double", targetId: web.id } }),
    ).toBeGreaterThan(0);
  });

  it("ends every session of a revoked switch at once, puts hosts back, and believes nothing it sends after", async () => {
    await webOnA();
    const answered = rogue.answerNextSnapshotRequest([session("web-1", now()), session("db-1", now())]);
    rogue.claim("db-1", now());
    rogue.claim("web-1", now());
    await answered;
    await vi.waitFor(() => {
      expect(routedVia(rogue, db.route), "B's route to db-1 via the rogue").toBe(true);
      expect(routedVia(rogue, web.route), "B's route to web-1 via the rogue").toBe(true);
    }, patiently);

    const revoked = await live.api.delete(`/api/switches/${rogue.id}/agent-credential`);
    expect(revoked.status).toBe(204);
    // It keeps claiming on the socket it still holds.
    rogue.claim("db-1", now() + 1);
    rogue.claim("web-1", now() + 1);
    expect(await switchesOf(db.id), "db-1's session on the revoked switch, right after").toEqual([]);
    await vi.waitFor(() => {
      expect(routedVia(rogue, db.route), "B's route to db-1 via the rogue").toBe(false);
      expect(routedVia(rogue, web.route), "B's route to web-1 via the rogue").toBe(false);
    }, patiently);

    // Once its channel is gone and handled (status offline), whatever it sent is accounted for.
    await rogue.socket.waitClosed(patiently.timeout);
    await expect
      .poll(async () => (await live.api.get(`/api/switches/${rogue.id}/status`)).body.online, patiently)
      .toBe(false);
    expect(await switchesOf(db.id)).toEqual([]);
    // A is asked what it has: web-1 goes back where it really is.
    await expect.poll(() => switchesOf(web.id), { ...patiently, message: "web-1 back on A" }).toEqual([a.id]);
    await vi.waitFor(() => expect(routedVia(a, web.route), "B's route to web-1 via A").toBe(true), patiently);
    const retry = await fetch(`${live.url}/api/agent/channel`, {
      headers: { authorization: `Bearer ${rogue.credential}` },
    });
    expect(retry.status).toBe(401);
  });

  it("ends a disabled switch's sessions and ignores its reports until it is enabled again", async () => {
    rogue.claim("db-1", now());
    await vi.waitFor(() => expect(routedVia(rogue, db.route), "B's route to db-1 via the rogue").toBe(true), patiently);
    const disabled = await live.api.patch(`/api/switches/${rogue.id}`, { enabled: false });
    expect(disabled.status, disabled.text).toBe(200);
    await expect.poll(() => switchesOf(db.id), patiently).toEqual([]);
    const from = rogue.socket.received.length;
    rogue.claim("db-1", now() + 1);
    const error = await rogue.socket.next((f) => rogue.socket.received.indexOf(f) >= from && f.type === "error");
    expect(error.message).toContain("is disabled");
    expect(await switchesOf(db.id)).toEqual([]);
  });

  it("lets an admin clear a host's session: routes withdrawn, the switch told to drop the client, audited", async () => {
    await webOnA();
    const operator = apiClient(live.app, await seedToken(live.db, "operator"));
    expect((await operator.post(`/api/hosts/${web.id}/clear-session`, {})).status).toBe(403);
    const cleared = await live.api.post(`/api/hosts/${web.id}/clear-session`, {});
    expect(cleared.status, cleared.text).toBe(200);
    expect(cleared.body.ended).toEqual([expect.objectContaining({ hostId: web.id, switchId: a.id })]);
    expect(cleared.body.kill).toMatchObject({ switchId: a.id, ok: true });
    expect(a.sim.management.received).toContain("client-kill 11");
    expect(await switchesOf(web.id)).toEqual([]);
    await vi.waitFor(() => expect(has(b.agent.ip.table, web.route), "B's route to web-1").toBe(false), patiently);
    const audit = await live.db.prisma.auditEvent.findFirst({
      where: { action: "host.clear-session", targetId: web.id },
    });
    expect(audit?.summary).toMatchObject({ commonName: "web-1" });
    expect((await live.api.post(`/api/hosts/${db.id}/clear-session`, {})).body).toEqual({ ended: [], kill: null });
  });
});
