import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Ack, AgentToApiMessage } from "@switchboard/shared";
import { describeNeeding } from "@switchboard/testkit/needs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Agent } from "../../src/agent.ts";
import { RouteGuard } from "../../src/reconcile/route-guard.ts";
import { RouteProgrammer } from "../../src/routes/route-programmer.ts";
import { spawnRunner } from "../../src/system/command-runner.ts";
import { desiredState } from "../support/desired.ts";
import { NETNS_NEEDS, uniqueNetns } from "../support/lab.ts";

/**
 * The same attack on a real kernel: a namespace with an uplink (198.18.10.2/24, default route via
 * 198.18.10.1) and a backbone device, the API at 198.18.1.2 beyond the gateway. The guard asks
 * the kernel (`ip route get`) which gateway it uses, and the agent leaves the table untouched
 * when a state would route the API's address into the backbone. Only addresses inside the
 * namespace are used; nothing is sent anywhere.
 */
const API = "198.18.1.2";

describeNeeding(NETNS_NEEDS, "route guard on a real kernel in a namespace", () => {
  const ns = uniqueNetns("sb-test-guard");
  const ip = (...args: string[]) => execFileSync("ip", ["-n", ns, ...args], { encoding: "utf8" });
  const routes = () => ip("-4", "route", "show", "table", "main");
  let baseDir: string;
  let agent: Agent | undefined;

  beforeAll(() => {
    execFileSync("ip", ["netns", "add", ns]);
    ip("link", "set", "lo", "up");
    // veth pairs: the dummy driver is not always available.
    ip("link", "add", "up0", "type", "veth", "peer", "name", "up0-peer");
    ip("link", "add", "sbb-aaaaa-2", "type", "veth", "peer", "name", "bb-peer");
    for (const dev of ["up0", "up0-peer", "sbb-aaaaa-2", "bb-peer"]) ip("link", "set", dev, "up");
    ip("addr", "add", "198.18.10.2/24", "dev", "up0");
    ip("addr", "add", "10.200.200.1/24", "dev", "sbb-aaaaa-2");
    ip("route", "add", "default", "via", "198.18.10.1", "dev", "up0");
    baseDir = mkdtempSync(join(tmpdir(), "sb-agent-guard-ns-"));
  });
  afterAll(async () => {
    await agent?.stop();
    spawnSync("ip", ["netns", "del", ns]);
    rmSync(baseDir, { recursive: true, force: true });
  });

  it("learns the API's gateway from the kernel's lookup and refuses routes covering either", async () => {
    const programmer = new RouteProgrammer({ runner: spawnRunner(), netns: ns });
    const guard = new RouteGuard({
      lookup: (address) => programmer.lookup(address),
      defaultGateways: () => programmer.defaultGateways(),
      apiHosts: [API],
    });
    expect(await guard.keptAddresses(desiredState())).toEqual([
      { address: API, what: `the API host ${API}` },
      { address: "198.18.10.1", what: `the gateway toward the API host ${API}` },
    ]);
    const route = (destination: string) => ({ destination, via: "10.200.200.2", dev: "sbb-aaaaa-2" });
    const state = desiredState();
    const checked = await guard.check({
      ...state,
      routes: [...state.routes, route("128.0.0.0/1"), route("198.18.10.0/28"), route("198.18.2.0/24")],
      routeCount: state.routes.length + 3,
    });
    expect(checked.map((e) => e.target)).toEqual(["128.0.0.0/1", "198.18.10.0/28"]);
  });

  it("an agent leaves the kernel's table untouched for such a state, and programs a safe one", async () => {
    const sent: AgentToApiMessage[] = [];
    agent = new Agent({
      baseDir,
      switchId: "sw-a",
      agentVersion: "0.1.0-test",
      send: (message) => sent.push(message),
      netns: ns,
      apiHost: API,
      statusIntervalMs: 60_000,
      reconcileIntervalMs: 60_000,
    });
    await agent.start();
    const before = routes();
    const state = desiredState();
    const hijack = { destination: "128.0.0.0/1", via: "10.200.200.2", dev: "sbb-aaaaa-2" };
    await agent.handleMessage(JSON.stringify({ ...state, routes: [...state.routes, hijack], routeCount: 4 }));
    const refused = sent.filter((m): m is Ack => m.type === "ack").at(-1);
    expect(refused).toMatchObject({ ok: false, revision: null, errors: [{ target: "128.0.0.0/1" }] });
    expect(routes()).toBe(before);
    expect(routes()).not.toContain("128.0.0.0/1");

    await agent.handleMessage(JSON.stringify(state));
    expect(sent.filter((m): m is Ack => m.type === "ack").at(-1)).toMatchObject({ ok: true, revision: 7 });
    expect(routes()).toContain("192.168.10.0/24 via 10.200.200.2 dev sbb-aaaaa-2 proto 180");
    expect(ip("-4", "-json", "route", "get", API)).toContain('"gateway":"198.18.10.1"');
  });
});
