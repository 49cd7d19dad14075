import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentToApiMessage } from "@switchboard/shared";
import { FakeIp } from "@switchboard/testkit/agent/fake-ip";
import { afterEach, describe, expect, it } from "vitest";
import { Agent } from "../../src/agent.ts";
import { type CommandRunner, spawnRunner } from "../../src/system/command-runner.ts";
import { desiredState } from "../support/desired.ts";

/** ip goes to the fake kernel; mkfifo (the hook FIFO) runs for real in the temp directory. */
function runnerWith(ip: FakeIp): CommandRunner {
  const real = spawnRunner();
  return { run: (file, args, input) => (file === "ip" ? ip.run(file, args, input) : real.run(file, args, input)) };
}

const dirs: string[] = [];
const agents: Agent[] = [];
afterEach(() => {
  for (const agent of agents.splice(0)) agent.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function makeAgent(baseDir: string, ip: FakeIp, sent: AgentToApiMessage[]): Agent {
  const agent = new Agent({
    baseDir,
    switchId: "sw-a",
    agentVersion: "0.1.0-test",
    send: (message) => sent.push(message),
    runner: runnerWith(ip),
    statusIntervalMs: 60_000,
    reconcileIntervalMs: 60_000,
  });
  agents.push(agent);
  return agent;
}

describe("Agent (composition root) with a fake kernel", () => {
  it("applies a desired state: files with the right modes, routes, an ack with the revision and a route report", async () => {
    const base = mkdtempSync(join(tmpdir(), "sb-agent-"));
    dirs.push(base);
    const ip = new FakeIp(new Set(["sbb-aaaaa-2"]));
    const sent: AgentToApiMessage[] = [];
    const agent = makeAgent(base, ip, sent);
    await agent.start();
    expect(agent.hello()).toMatchObject({ type: "hello", protocolVersion: 1, switchId: "sw-a", revision: null });

    await agent.handleMessage(JSON.stringify(desiredState()));

    expect(sent.find((m) => m.type === "ack")).toEqual({
      type: "ack",
      revision: 7,
      ok: true,
      errors: [],
      resync: false,
    });
    expect(sent.find((m) => m.type === "route-report")).toMatchObject({ revision: 7, failed: [] });
    expect(ip.table.map((r) => r.dst).sort()).toEqual(["10.100.100.10/32", "10.100.100.2/32", "192.168.10.0/24"]);
    expect(readFileSync(join(base, "ccd/web-1"), "utf8")).toContain("iroute");
    expect(statSync(join(base, "server.key")).mode & 0o777).toBe(0o600);
    expect(statSync(join(base, "state/desired.json")).mode & 0o777).toBe(0o600);
    expect(statSync(join(base, "hook.fifo")).isFIFO()).toBe(true);
    expect(readFileSync(join(base, "client-hook"), "utf8")).toContain(join(base, "hook.fifo"));
  });

  it("retries routes whose backbone device was missing (a link still starting) without waiting for the next reconcile", async () => {
    const base = mkdtempSync(join(tmpdir(), "sb-agent-"));
    dirs.push(base);
    const ip = new FakeIp(new Set());
    const sent: AgentToApiMessage[] = [];
    const agent = makeAgent(base, ip, sent);
    await agent.start();
    await agent.handleMessage(JSON.stringify(desiredState()));
    expect(sent.find((m) => m.type === "route-report")).toMatchObject({
      failed: expect.arrayContaining([expect.anything()]),
    });
    expect(ip.table).toEqual([]);

    ip.devices.add("sbb-aaaaa-2"); // the link's tun device appears
    await expect
      .poll(() => ip.table.map((r) => r.dst).sort(), { timeout: 3000, interval: 50 })
      .toEqual(["10.100.100.10/32", "10.100.100.2/32", "192.168.10.0/24"]);
    // Route reports go at most once a second (the last one within it follows).
    await expect
      .poll(() => sent.filter((m) => m.type === "route-report").at(-1), { timeout: 3000, interval: 50 })
      .toMatchObject({ failed: [] });
  });

  it("refuses a malformed message with an error reply and keeps running", async () => {
    const base = mkdtempSync(join(tmpdir(), "sb-agent-"));
    dirs.push(base);
    const sent: AgentToApiMessage[] = [];
    const agent = makeAgent(base, new FakeIp(), sent);
    await agent.start();
    await agent.handleMessage('{"type":"desired-state","revision":"lots"}');
    await agent.handleMessage("\u0000garbage");
    expect(sent.map((m) => m.type)).toEqual(["error", "error"]);
    expect(agent.revision).toBeNull();
  });

  it("asks for a resync when a delta does not start at its revision", async () => {
    const base = mkdtempSync(join(tmpdir(), "sb-agent-"));
    dirs.push(base);
    const sent: AgentToApiMessage[] = [];
    const agent = makeAgent(base, new FakeIp(new Set(["sbb-aaaaa-2"])), sent);
    await agent.start();
    await agent.handleMessage(JSON.stringify(desiredState()));
    await agent.handleMessage(
      JSON.stringify({ type: "desired-state-delta", switchId: "sw-a", baseRevision: 5, revision: 9 }),
    );
    expect(sent.at(-1)).toMatchObject({ type: "ack", revision: 7, ok: false, resync: true });
  });

  it("restores files and routes from its cache after a restart, with the API unreachable", async () => {
    const base = mkdtempSync(join(tmpdir(), "sb-agent-"));
    dirs.push(base);
    const first = makeAgent(base, new FakeIp(new Set(["sbb-aaaaa-2"])), []);
    await first.start();
    await first.handleMessage(JSON.stringify(desiredState()));
    first.stop();
    rmSync(join(base, "ccd/db-1"));

    const rebooted = new FakeIp(new Set(["sbb-aaaaa-2"]));
    // No channel at all: start() has nothing to wait for but the disk.
    const second = makeAgent(base, rebooted, []);
    await second.start();
    expect(second.revision).toBe(7);
    expect(rebooted.table).toHaveLength(3);
    expect(readFileSync(join(base, "ccd/db-1"), "utf8")).toContain("10.100.100.11");
  });

  it("answers diagnostics and reports a kill for a host it does not see", async () => {
    const base = mkdtempSync(join(tmpdir(), "sb-agent-"));
    dirs.push(base);
    const sent: AgentToApiMessage[] = [];
    const agent = makeAgent(base, new FakeIp(), sent);
    await agent.start();
    await agent.handleMessage(JSON.stringify({ type: "command", id: "d1", command: { kind: "diagnostics" } }));
    await agent.handleMessage(
      JSON.stringify({ type: "command", id: "k1", command: { kind: "kill-session", commonName: "web-1" } }),
    );
    expect(sent[0]).toMatchObject({
      type: "command-result",
      id: "d1",
      ok: true,
      data: { managementReady: false, sessions: 0 },
    });
    expect(sent[1]).toMatchObject({ type: "command-result", id: "k1", ok: false });
  });
});
