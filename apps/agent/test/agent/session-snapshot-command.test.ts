import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentToApiMessage } from "@switchboard/shared";
import { FakeIp } from "@switchboard/testkit/agent/fake-ip";
import { type SwitchSim, startSwitchSim } from "@switchboard/testkit/agent/switch-sim";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Agent } from "../../src/agent.ts";
import { HOOK_FIFO } from "../../src/reconcile/layout.ts";
import { type CommandRunner, spawnRunner } from "../../src/system/command-runner.ts";

/**
 * The API backs a switch's claim to a host with this command (issue 13): the answer comes from
 * OpenVPN's own `status 3`, so a session that only the hook FIFO reported (anyone who can write
 * to it can) is not in it.
 */
const sims: SwitchSim[] = [];
const agents: Agent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.stop();
  for (const sim of sims.splice(0)) {
    await sim.close();
    rmSync(sim.baseDir, { recursive: true, force: true });
  }
});

function runnerWith(ip: FakeIp): CommandRunner {
  const real = spawnRunner();
  return { run: (file, args, input) => (file === "ip" ? ip.run(file, args, input) : real.run(file, args, input)) };
}

describe("the session-snapshot command", () => {
  it("answers with what status 3 lists now, and drops a session only the hook reported", async () => {
    const sim = await startSwitchSim();
    sims.push(sim);
    const sent: AgentToApiMessage[] = [];
    const agent = new Agent({
      baseDir: sim.baseDir,
      switchId: "sw-a",
      agentVersion: "0.1.0-test",
      send: (message) => sent.push(message),
      runner: runnerWith(new FakeIp()),
      statusIntervalMs: 60_000,
      reconcileIntervalMs: 60_000,
    });
    agents.push(agent);
    await agent.start();
    await vi.waitFor(() => expect(sim.management.connections, "management connection").toBeGreaterThan(0), {
      timeout: 30_000,
    });
    const now = Math.floor(Date.now() / 1000);
    sim.connect("web-1", 11, now);
    // A line in the hook's FIFO, as anything able to write there could send.
    writeFileSync(
      join(sim.baseDir, HOOK_FIFO),
      `sb1\tclient-connect\t${now}\tghost-1\t198.51.100.9\t40001\t\t\t\t\tsbs-x\n`,
    );
    const connected = () =>
      sent.flatMap((m) => (m.type === "sessions" ? m.events.filter((e) => e.event === "connect") : []));
    await vi.waitFor(
      () =>
        expect(
          connected()
            .map((e) => e.session.commonName)
            .sort(),
        ).toEqual(["ghost-1", "web-1"]),
      {
        timeout: 30_000,
      },
    );

    await agent.handleMessage(JSON.stringify({ type: "command", id: "c1", command: { kind: "session-snapshot" } }));
    expect(sim.management.received).toContain("status 3");
    const snapshot = sent.find((m) => m.type === "session-snapshot");
    expect(snapshot?.type === "session-snapshot" && snapshot.sessions.map((s) => s.commonName)).toEqual(["web-1"]);
    expect(sent.at(-1)).toEqual({ type: "command-result", id: "c1", ok: true });
  });
});
