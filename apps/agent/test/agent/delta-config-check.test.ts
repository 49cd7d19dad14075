import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentToApiMessage, DesiredStateDelta } from "@switchboard/shared";
import { FakeIp } from "@switchboard/testkit/agent/fake-ip";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Agent } from "../../src/agent.ts";
import { checkStateConfigs } from "../../src/reconcile/config-guard.ts";
import { type CommandRunner, spawnRunner } from "../../src/system/command-runner.ts";
import { desiredState } from "../support/desired.ts";

/**
 * The config allow-list (config-guard.ts) reads the server device, the server files and the
 * link configs. A delta that brings none of them leaves those of the held state, which passed,
 * so it is not checked again; one that brings any of them is (hostile-config.test.ts has the
 * refusals themselves).
 */

vi.mock("../../src/reconcile/config-guard.ts", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../src/reconcile/config-guard.ts")>();
  return { ...original, checkStateConfigs: vi.fn(original.checkStateConfigs) };
});
const checks = vi.mocked(checkStateConfigs);

const dirs: string[] = [];
const agents: Agent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function startedAgent(sent: AgentToApiMessage[]): Promise<Agent> {
  const ip = new FakeIp(new Set(["sbb-aaaaa-2"]));
  const real = spawnRunner();
  const runner: CommandRunner = {
    run: (file, args, input) => (file === "ip" ? ip.run(file, args, input) : real.run(file, args, input)),
  };
  const baseDir = mkdtempSync(join(tmpdir(), "sb-agent-config-check-"));
  dirs.push(baseDir);
  const agent = new Agent({
    baseDir,
    switchId: "sw-a",
    agentVersion: "0.1.0-test",
    send: (message) => sent.push(message),
    runner,
    statusIntervalMs: 60_000,
    reconcileIntervalMs: 60_000,
    cacheSaveDelayMs: 60_000,
  });
  agents.push(agent);
  await agent.start();
  await agent.handleMessage(JSON.stringify(desiredState()));
  return agent;
}

const delta = (parts: Partial<DesiredStateDelta>): DesiredStateDelta => ({
  type: "desired-state-delta",
  switchId: "sw-a",
  baseRevision: 7,
  revision: 8,
  ...parts,
});
const lastAck = (sent: AgentToApiMessage[]) => sent.filter((m) => m.type === "ack").at(-1);

describe("the config allow-list on deltas", () => {
  it("is not run again for a delta of routes and hosts only", async () => {
    const sent: AgentToApiMessage[] = [];
    const agent = await startedAgent(sent);
    checks.mockClear();
    const host = { commonName: "new-1", address: "10.100.100.20", subnets: [], clientConfig: "ifconfig-push x\n" };
    await agent.handleMessage(
      JSON.stringify(
        delta({
          hosts: { upsert: [host], remove: [] },
          routes: {
            upsert: [{ destination: "10.100.100.20/32", via: "10.200.200.2", dev: "sbb-aaaaa-2" }],
            remove: [],
          },
        }),
      ),
    );
    expect(lastAck(sent)).toMatchObject({ revision: 8, ok: true });
    expect(checks).not.toHaveBeenCalled();
  });

  it("is run for a delta that brings a server file or a link", async () => {
    const sent: AgentToApiMessage[] = [];
    const agent = await startedAgent(sent);
    checks.mockClear();
    await agent.handleMessage(JSON.stringify(delta({ server: { crl: "CRL2\n" } })));
    expect(lastAck(sent)).toMatchObject({ revision: 8, ok: true });
    expect(checks).toHaveBeenCalledTimes(1);
    const link = { peerOffset: 3, config: `${desiredState().links[0]?.config}up /bin/sh\n`.replace("-2\n", "-3\n") };
    await agent.handleMessage(
      JSON.stringify({ ...delta({ links: { upsert: [link], remove: [] } }), baseRevision: 8, revision: 9 }),
    );
    expect(lastAck(sent)).toMatchObject({ revision: 8, ok: false });
    expect(checks).toHaveBeenCalledTimes(2);
  });
});
