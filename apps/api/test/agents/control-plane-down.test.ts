import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { FakeIp } from "@switchboard/testkit/agent/fake-ip";
import { type SwitchSim, startSwitchSim } from "@switchboard/testkit/agent/switch-sim";
import { ANY_DEVICE, startTestAgent, type TestAgent } from "@switchboard/testkit/agent/test-agent";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { enrollSwitch, type LiveApi, networkWithSwitches, startLiveApi } from "../support/live-api.ts";
import { patiently } from "../support/waits.ts";

describe("control plane down: the agent keeps and restores its state [pglite]", () => {
  // Each test stops its own API, so each starts one: two switches, the host on B, A routing to it.
  let live: LiveApi;
  let sims: SwitchSim[] = [];
  let agents: TestAgent[] = [];
  let credentialA: string;
  let switchA: string;
  let hostRoute: string;

  beforeEach(async () => {
    live = await startLiveApi("pglite", { pollMs: 500 });
    const { networkId, switches } = await networkWithSwitches(live.api, 2);
    const host = (await live.api.post("/api/hosts", { networkId, commonName: "web-1" })).body;
    hostRoute = `${host.address}/32`;
    for (const id of switches) {
      const sim = await startSwitchSim();
      sims.push(sim);
      const credential = await enrollSwitch(live, id);
      agents.push(await startTestAgent({ api: live.url, credential, switchId: id, baseDir: sim.baseDir }));
      if (agents.length === 1) credentialA = credential;
    }
    switchA = switches[0] as string;
    const [, simB] = sims as [SwitchSim, SwitchSim];
    await vi.waitFor(
      () => expect(simB.management.connections, "B's management connection").toBeGreaterThan(0),
      patiently,
    );
    simB.connect("web-1", 5, Math.floor(Date.now() / 1000));
    // A learns the host is on B: the data-address route to B plus the host route.
    await vi.waitFor(
      () =>
        expect(
          agents[0]?.ip.table.map((r) => r.dst),
          "A's route to the host on B",
        ).toContain(hostRoute),
      patiently,
    );
    expect(existsSync(join(agents[0]?.baseDir ?? "", "ccd/web-1"))).toBe(true);
  });
  afterEach(async () => {
    for (const agent of agents) await agent.stop();
    for (const sim of sims) {
      await sim.close();
      rmSync(sim.baseDir, { recursive: true, force: true });
    }
    sims = [];
    agents = [];
    await live.close().catch(() => undefined);
  });

  it("keeps files and routes when the API goes away, and keeps trying to reconnect", async () => {
    const [agentA] = agents as [TestAgent];
    const routesBefore = agentA.ip.table.map((r) => r.dst).sort();
    const attempts = agentA.channel.attempts;
    await live.close();
    // Two failed reconnects: the agent has seen the channel drop and carried on without it.
    await vi.waitFor(() => {
      expect(agentA.channel.connected, "the channel to notice").toBe(false);
      expect(agentA.channel.attempts, "reconnect attempts").toBeGreaterThan(attempts + 1);
    }, patiently);
    expect(agentA.ip.table.map((r) => r.dst).sort()).toEqual(routesBefore);
    expect(existsSync(join(agentA.baseDir, "ccd/web-1"))).toBe(true);
  });

  it("restores files and routes from its 0600 cache after its own restart, with the API still down", async () => {
    const [agentA] = agents as [TestAgent];
    const expected = agentA.ip.table.map((r) => r.dst).sort();
    await live.close();
    await agentA.stop();
    const cache = join(agentA.baseDir, "state/desired.json");
    expect(statSync(cache).mode & 0o777).toBe(0o600);
    rmSync(join(agentA.baseDir, "ccd/web-1"));

    const rebooted = new FakeIp(ANY_DEVICE); // a fresh kernel: no routes at all
    const restarted = await startTestAgent({
      api: live.url,
      credential: credentialA,
      switchId: switchA,
      baseDir: agentA.baseDir,
      ip: rebooted,
    });
    agents[0] = restarted;
    // How soon is the lab's figure (target 5 s, reported there); here only that it happens.
    await vi.waitFor(() => {
      expect(rebooted.table.map((r) => r.dst).sort(), "the routes from the cache").toEqual(expected);
      expect(readFileSync(join(agentA.baseDir, "ccd/web-1"), "utf8"), "the ccd file from the cache").toContain(
        "ifconfig-push",
      );
    }, patiently);
    expect(restarted.channel.connected).toBe(false);
    expect(restarted.channel.attempts).toBeGreaterThan(0);
  });
});
