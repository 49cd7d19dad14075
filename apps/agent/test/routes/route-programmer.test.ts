import { execFileSync, spawnSync } from "node:child_process";
import { FakeIp } from "@switchboard/testkit/agent/fake-ip";
import { describeNeeding } from "@switchboard/testkit/needs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RouteProgrammer } from "../../src/routes/route-programmer.ts";
import { spawnRunner } from "../../src/system/command-runner.ts";
import { NETNS_NEEDS, uniqueNetns } from "../support/lab.ts";

const r = (n: number, via = "10.200.200.2", dev = "sbb-aaaaa-2") => ({ destination: `10.100.100.${n}/32`, via, dev });

describe("RouteProgrammer with a recording fake ip", () => {
  it("applies a route set with one batch, adds before deletes, and a repeat runs no route command", async () => {
    const ip = new FakeIp();
    ip.table.push({ dst: "10.100.100.50/32", gateway: "10.200.200.2", dev: "sbb-aaaaa-2", protocol: "180" });
    const programmer = new RouteProgrammer({ runner: ip });

    const first = await programmer.apply([r(2), r(3)]);
    expect(first).toMatchObject({ added: 2, removed: 1, routeCommands: 1, failed: [] });
    const batch = ip.calls.find((c) => c.args.includes("-batch"))?.input ?? "";
    expect(batch.split("\n").filter(Boolean)).toEqual([
      "route replace 10.100.100.2/32 via 10.200.200.2 dev sbb-aaaaa-2 proto 180 table main",
      "route replace 10.100.100.3/32 via 10.200.200.2 dev sbb-aaaaa-2 proto 180 table main",
      "route del 10.100.100.50/32 proto 180 table main",
    ]);

    const second = await programmer.apply([r(3), r(2)]);
    expect(second).toMatchObject({ added: 0, removed: 0, routeCommands: 0, reads: 1 });
    expect(ip.routeCommands).toBe(1);
    expect(second.applied.map((x) => x.destination).sort()).toEqual(["10.100.100.2/32", "10.100.100.3/32"]);
  });

  it("leaves routes of other protocols alone even when they sit on a wanted destination", async () => {
    const ip = new FakeIp();
    ip.table.push({ dst: "10.100.100.2/32", gateway: "192.0.2.1", dev: "eth0", protocol: "static" });
    ip.table.push({ dst: "10.9.0.0/16", gateway: "192.0.2.1", dev: "eth0", protocol: "boot" });
    const result = await new RouteProgrammer({ runner: ip }).apply([r(2), r(3)]);
    expect(result.failed).toEqual([
      { destination: "10.100.100.2/32", reason: "conflict", message: expect.any(String) },
    ]);
    expect(ip.table).toContainEqual({ dst: "10.100.100.2/32", gateway: "192.0.2.1", dev: "eth0", protocol: "static" });
    expect(ip.table).toContainEqual({ dst: "10.9.0.0/16", gateway: "192.0.2.1", dev: "eth0", protocol: "boot" });
  });

  it("puts back a route someone deleted by hand on the next apply", async () => {
    const ip = new FakeIp();
    const programmer = new RouteProgrammer({ runner: ip });
    await programmer.apply([r(2), r(3)]);
    ip.table.splice(0, 1);
    const again = await programmer.apply([r(2), r(3)]);
    expect(again).toMatchObject({ added: 1, routeCommands: 1 });
    expect(ip.table.map((x) => x.dst).sort()).toEqual(["10.100.100.2/32", "10.100.100.3/32"]);
  });

  it("reports the routes the kernel refused and what it really holds afterwards", async () => {
    const ip = new FakeIp();
    const result = await new RouteProgrammer({ runner: ip }).apply([r(2), r(3, "10.200.200.9", "sbb-down-9")]);
    expect(result.failed).toEqual([
      { destination: "10.100.100.3/32", reason: "kernel", message: 'Cannot find device "sbb-down-9"' },
    ]);
    expect(result.applied).toEqual([r(2)]);
    expect(result).toMatchObject({ added: 1, reads: 2 });
  });

  it("refuses a non-snapshot update that withdraws more than half, lets a verified snapshot through", async () => {
    const ip = new FakeIp();
    const programmer = new RouteProgrammer({ runner: ip });
    const all = Array.from({ length: 20 }, (_, i) => r(i + 2));
    await programmer.apply(all);
    const refused = await programmer.apply(all.slice(0, 5));
    expect(refused.failed[0]).toMatchObject({ reason: "guard" });
    expect(refused.routeCommands).toBe(0);
    expect(ip.table).toHaveLength(20);
    const accepted = await programmer.apply(all.slice(0, 5), { verifiedFullSnapshot: true });
    expect(accepted).toMatchObject({ removed: 15, failed: [] });
  });

  it("runs ip in the given namespace", async () => {
    const ip = new FakeIp();
    await new RouteProgrammer({ runner: ip, netns: "sb-x" }).apply([r(2)]);
    expect(ip.calls.every((c) => c.args[0] === "-n" && c.args[1] === "sb-x")).toBe(true);
  });
});

describeNeeding(NETNS_NEEDS, "RouteProgrammer on a real kernel in a namespace", () => {
  const ns = uniqueNetns("sb-test-rt");
  const ip = (...args: string[]) => execFileSync("ip", ["-n", ns, ...args], { encoding: "utf8" });
  const routes = () => ip("route", "show", "table", "main");
  beforeAll(() => {
    execFileSync("ip", ["netns", "add", ns]);
    // A veth pair: the dummy driver is not always available (it is not on this machine).
    ip("link", "add", "sbb-aaaaa-2", "type", "veth", "peer", "name", "peer0");
    ip("link", "set", "sbb-aaaaa-2", "up");
    ip("link", "set", "peer0", "up");
    ip("addr", "add", "10.200.200.1/24", "dev", "sbb-aaaaa-2");
    ip("route", "add", "10.100.100.77/32", "via", "10.200.200.9", "dev", "sbb-aaaaa-2", "proto", "static");
  });
  afterAll(() => {
    spawnSync("ip", ["netns", "del", ns]);
  });

  it("programs, repeats as a no-op, restores a hand-deleted route, keeps foreign routes, withdraws its own", async () => {
    const programmer = new RouteProgrammer({ runner: spawnRunner(), netns: ns });
    const first = await programmer.apply([r(2), r(3), r(77)]);
    expect(first.failed.map((f) => [f.destination, f.reason])).toEqual([["10.100.100.77/32", "conflict"]]);
    expect(routes()).toContain("10.100.100.2 via 10.200.200.2 dev sbb-aaaaa-2 proto 180");
    expect(routes()).toContain("10.100.100.77 via 10.200.200.9 dev sbb-aaaaa-2 proto static");

    expect((await programmer.apply([r(2), r(3)])).routeCommands).toBe(0);

    ip("route", "del", "10.100.100.3/32");
    const restored = await programmer.apply([r(2), r(3)]);
    expect(restored).toMatchObject({ added: 1, routeCommands: 1 });
    expect(routes()).toContain("10.100.100.3 via 10.200.200.2 dev sbb-aaaaa-2 proto 180");

    const moved = await programmer.apply([r(3)]);
    expect(moved).toMatchObject({ removed: 1 });
    expect(routes()).not.toContain("10.100.100.2 ");
    expect(routes()).toContain("10.100.100.77 via 10.200.200.9 dev sbb-aaaaa-2 proto static");
  });

  it("reports a route whose device does not exist and still applies the others", async () => {
    const programmer = new RouteProgrammer({ runner: spawnRunner(), netns: ns });
    const result = await programmer.apply([r(3), r(4, "10.200.200.3", "sbb-aaaaa-3")]);
    expect(result.failed).toEqual([
      { destination: "10.100.100.4/32", reason: "kernel", message: expect.stringContaining("sbb-aaaaa-3") },
    ]);
    expect(result.applied).toEqual([r(3)]);
  });
});
