import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { FakeIp } from "@switchboard/testkit/agent/fake-ip";
import { type SwitchSim, startSwitchSim } from "@switchboard/testkit/agent/switch-sim";
import { ANY_DEVICE, startTestAgent, type TestAgent } from "@switchboard/testkit/agent/test-agent";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrollSwitch, type LiveApi, networkWithSwitches, startLiveApi, until } from "../support/live-api.ts";

describe("control plane down: the agent keeps and restores its state [pglite]", () => {
  let live: LiveApi;
  let sims: SwitchSim[] = [];
  let agents: TestAgent[] = [];
  let credentialA: string;
  let switchA: string;
  let apiUrl: string;
  let hostRoute: string;

  beforeAll(async () => {
    live = await startLiveApi("pglite", { pollMs: 500 });
    apiUrl = live.url;
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
    await until(() => (simB.management.connections ?? 0) > 0, "B's management connection");
    simB.connect("web-1", 5, Math.floor(Date.now() / 1000));
    // A learns the host is on B: the data-address route to B plus the host route.
    await until(() => agents[0]?.ip.table.some((r) => r.dst === hostRoute) === true, "A's route to the host on B");
  });
  afterAll(async () => {
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
    expect(routesBefore).toContain(hostRoute);
    const attempts = agentA.channel.attempts;
    await live.close();
    await until(() => !agentA.channel.connected, "the channel to notice");
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(agentA.ip.table.map((r) => r.dst).sort()).toEqual(routesBefore);
    expect(existsSync(join(agentA.baseDir, "ccd/web-1"))).toBe(true);
    expect(agentA.channel.attempts).toBeGreaterThan(attempts + 1);
  });

  it("restores files and routes from its 0600 cache within 5 s after its own restart, with the API still down", async () => {
    const [agentA] = agents as [TestAgent];
    const expected = agentA.ip.table.map((r) => r.dst).sort();
    await agentA.stop();
    const cache = join(agentA.baseDir, "state/desired.json");
    expect(statSync(cache).mode & 0o777).toBe(0o600);
    rmSync(join(agentA.baseDir, "ccd/web-1"));

    const rebooted = new FakeIp(ANY_DEVICE); // a fresh kernel: no routes at all
    const started = Date.now();
    const restarted = await startTestAgent({
      api: apiUrl,
      credential: credentialA,
      switchId: switchA,
      baseDir: agentA.baseDir,
      ip: rebooted,
    });
    agents[0] = restarted;
    await until(() => rebooted.table.length === expected.length, "the routes from the cache", 5000);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(rebooted.table.map((r) => r.dst).sort()).toEqual(expected);
    expect(readFileSync(join(agentA.baseDir, "ccd/web-1"), "utf8")).toContain("ifconfig-push");
    expect(restarted.channel.connected).toBe(false);
  });
});
