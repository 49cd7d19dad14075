import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Ack, AgentToApiMessage, DesiredState } from "@switchboard/shared";
import { FakeIp } from "@switchboard/testkit/agent/fake-ip";
import { afterEach, describe, expect, it } from "vitest";
import { Agent } from "../../src/agent.ts";
import { type CommandRunner, spawnRunner } from "../../src/system/command-runner.ts";
import { desiredState } from "../support/desired.ts";

/**
 * The attack of issue 13 as the agent meets it: the API (compromised, buggy, or fed a host
 * subnet before it checked them) sends a state routing 128.0.0.0/1 over the backbone. With the
 * API at 198.18.1.2 that route would pull the agent's own channel into the tunnel, and the undo
 * could never arrive. The agent must refuse it in its ack and change nothing.
 */
const API = "198.18.1.2";
const UPLINK = { gateway: "198.18.10.1", dev: "eth0" };

function runnerWith(ip: FakeIp): CommandRunner {
  const real = spawnRunner();
  return { run: (file, args, input) => (file === "ip" ? ip.run(file, args, input) : real.run(file, args, input)) };
}

const dirs: string[] = [];
const agents: Agent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setUp(options: { apiHost?: string; baseDir?: string } = { apiHost: API }) {
  const baseDir = options.baseDir ?? mkdtempSync(join(tmpdir(), "sb-agent-guard-"));
  if (!dirs.includes(baseDir)) dirs.push(baseDir);
  const ip = new FakeIp(new Set(["sbb-aaaaa-2", "eth0"]));
  ip.uplink = UPLINK;
  const sent: AgentToApiMessage[] = [];
  const agent = new Agent({
    baseDir,
    switchId: "sw-a",
    agentVersion: "0.1.0-test",
    send: (message) => sent.push(message),
    runner: runnerWith(ip),
    statusIntervalMs: 60_000,
    reconcileIntervalMs: 60_000,
    ...(options.apiHost ? { apiHost: options.apiHost } : {}),
  });
  agents.push(agent);
  const acks = () => sent.filter((m): m is Ack => m.type === "ack");
  const cachedRevision = () =>
    (JSON.parse(readFileSync(join(baseDir, "state/desired.json"), "utf8")) as DesiredState).revision;
  return { agent, ip, sent, acks, baseDir, cachedRevision };
}

const hijack = { destination: "128.0.0.0/1", via: "10.200.200.2", dev: "sbb-aaaaa-2" };
const good = desiredState();
const withHijack = (revision: number): DesiredState => ({
  ...good,
  revision,
  routes: [...good.routes, hijack],
  routeCount: good.routes.length + 1,
});
const destinations = (ip: FakeIp) => ip.table.map((r) => r.dst).sort();

describe("an agent refuses routes that would cut it off from the API, its peers or its uplink", () => {
  it("refuses a snapshot routing 128.0.0.0/1 (covers the API): error in the ack, nothing applied, nothing cached", async () => {
    const { agent, ip, acks, cachedRevision } = setUp();
    await agent.start();
    await agent.handleMessage(JSON.stringify(good));
    expect(acks().at(-1)).toMatchObject({ revision: 7, ok: true });
    const before = destinations(ip);
    const batches = ip.routeCommands;

    await agent.handleMessage(JSON.stringify(withHijack(8)));

    expect(acks().at(-1)).toEqual({
      type: "ack",
      revision: 7,
      ok: false,
      resync: false,
      errors: [
        {
          scope: "route",
          target: "128.0.0.0/1",
          message: expect.stringContaining(`covers ${API}, the API host ${API}`),
        },
      ],
    });
    expect(agent.revision).toBe(7);
    expect(cachedRevision()).toBe(7);
    expect(ip.routeCommands).toBe(batches);
    expect(destinations(ip)).toEqual(before);
  });

  it("refuses a delta that adds the route, then takes the API's fix when it comes as the next snapshot", async () => {
    const { agent, ip, acks, cachedRevision } = setUp();
    await agent.start();
    await agent.handleMessage(JSON.stringify(good));
    const delta = {
      type: "desired-state-delta",
      switchId: "sw-a",
      baseRevision: 7,
      revision: 8,
      routes: { upsert: [hijack], remove: [] },
    };
    await agent.handleMessage(JSON.stringify(delta));
    expect(acks().at(-1)).toMatchObject({ revision: 7, ok: false, resync: false, errors: [{ target: "128.0.0.0/1" }] });
    expect(destinations(ip)).not.toContain("128.0.0.0/1");
    expect(cachedRevision()).toBe(7);

    // The undo: the API's next delta builds on the revision the agent refused, so the agent asks
    // for a snapshot, and that one (without the route) is taken.
    await agent.handleMessage(
      JSON.stringify({
        type: "desired-state-delta",
        switchId: "sw-a",
        baseRevision: 8,
        revision: 9,
        routes: { upsert: [], remove: ["128.0.0.0/1"] },
      }),
    );
    expect(acks().at(-1)).toMatchObject({ revision: 7, ok: false, resync: true });
    await agent.handleMessage(JSON.stringify({ ...good, revision: 10 }));
    expect(acks().at(-1)).toMatchObject({ revision: 10, ok: true });
    expect(cachedRevision()).toBe(10);
  });

  it("refuses a route covering the uplink gateway, and a host subnet covering a backbone peer's endpoint", async () => {
    const { agent, ip, acks } = setUp();
    await agent.start();
    await agent.handleMessage(
      JSON.stringify({
        ...good,
        routes: [...good.routes, { ...hijack, destination: "198.18.10.0/24" }],
        routeCount: 4,
      }),
    );
    expect(acks().at(-1)?.errors[0]).toMatchObject({
      target: "198.18.10.0/24",
      message: expect.stringContaining("covers 198.18.10.1, the gateway toward the API host"),
    });
    const peer = { peerOffset: 2, config: `${good.links[0]?.config ?? ""}remote 203.0.113.20 1195\n` };
    const hosts = good.hosts.map((h) => (h.commonName === "db-1" ? { ...h, subnets: ["203.0.113.0/24"] } : h));
    await agent.handleMessage(JSON.stringify({ ...good, links: [peer], hosts }));
    expect(acks().at(-1)).toMatchObject({
      revision: null,
      ok: false,
      errors: [{ target: "203.0.113.0/24", message: expect.stringContaining("the endpoint of backbone peer 2") }],
    });
    expect(ip.routeCommands).toBe(0);
  });

  it("does not restore a cached state with such a route after a restart", async () => {
    // As an agent from before the check left it.
    const baseDir = mkdtempSync(join(tmpdir(), "sb-agent-guard-"));
    mkdirSync(join(baseDir, "state"), { mode: 0o700 });
    writeFileSync(join(baseDir, "state/desired.json"), JSON.stringify(withHijack(8)), { mode: 0o600 });

    const { agent, ip } = setUp({ apiHost: API, baseDir });
    await agent.start();
    expect(agent.revision).toBeNull();
    expect(ip.routeCommands).toBe(0);
    expect(ip.table).toEqual([]);
  });
});
