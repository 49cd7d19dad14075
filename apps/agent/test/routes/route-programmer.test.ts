import { execFileSync, spawnSync } from "node:child_process";
import { FakeIp } from "@switchboard/testkit/agent/fake-ip";
import { describeNeeding } from "@switchboard/testkit/needs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RouteProgrammer } from "../../src/routes/route-programmer.ts";
import { spawnRunner } from "../../src/system/command-runner.ts";
import { NETNS_NEEDS, uniqueNetns } from "../support/lab.ts";

const r = (n: number, via = "10.200.200.2", dev = "sbb-aaaaa-2") => ({ destination: `10.100.100.${n}/32`, via, dev });

const batches = (ip: FakeIp) => ip.calls.filter((c) => c.args.includes("-batch"));
const lines = (input: string | undefined) => (input ?? "").split("\n").filter(Boolean);

describe("RouteProgrammer with a recording fake ip", () => {
  it("applies a route set with one batch, adds before deletes, and a repeat runs no command at all", async () => {
    const ip = new FakeIp();
    ip.table.push({ dst: "10.100.100.50/32", gateway: "10.200.200.2", dev: "sbb-aaaaa-2", protocol: "180" });
    const programmer = new RouteProgrammer({ runner: ip });

    const first = await programmer.apply([r(2), r(3)]);
    expect(first).toMatchObject({ added: 2, removed: 1, routeCommands: 1, reads: 1, failed: [] });
    expect(lines(batches(ip)[0]?.input)).toEqual([
      "route add 10.100.100.2/32 via 10.200.200.2 dev sbb-aaaaa-2 proto 180 table main",
      "route add 10.100.100.3/32 via 10.200.200.2 dev sbb-aaaaa-2 proto 180 table main",
      "route del 10.100.100.50/32 proto 180 table main",
    ]);

    const callsBefore = ip.calls.length;
    const second = await programmer.apply([r(3), r(2)]);
    expect(second).toMatchObject({ added: 0, removed: 0, routeCommands: 0, reads: 0 });
    expect(ip.calls).toHaveLength(callsBefore);
    expect(second.applied.map((x) => x.destination).sort()).toEqual(["10.100.100.2/32", "10.100.100.3/32"]);
  });

  it("applies one change among many as one batch of exactly that line, without reading the table", async () => {
    const ip = new FakeIp();
    const programmer = new RouteProgrammer({ runner: ip });
    const all = Array.from({ length: 100 }, (_, i) => r(i + 2));
    await programmer.apply(all);
    const callsBefore = ip.calls.length;

    const moved = all.map((route) =>
      route.destination === "10.100.100.40/32" ? r(40, "10.200.200.3", "sbb-aaaaa-3") : route,
    );
    const result = await programmer.apply(moved);
    expect(result).toMatchObject({ added: 1, removed: 0, routeCommands: 1, reads: 0, failed: [] });
    const newCalls = ip.calls.slice(callsBefore);
    expect(newCalls).toHaveLength(1);
    expect(lines(newCalls[0]?.input)).toEqual([
      "route replace 10.100.100.40/32 via 10.200.200.3 dev sbb-aaaaa-3 proto 180 table main",
    ]);
    expect(ip.table.find((x) => x.dst === "10.100.100.40/32")).toMatchObject({ gateway: "10.200.200.3" });

    const withdrawn = await programmer.apply(moved.filter((route) => route.destination !== "10.100.100.41/32"));
    expect(withdrawn).toMatchObject({ removed: 1, reads: 0 });
    expect(lines(ip.calls.at(-1)?.input)).toEqual(["route del 10.100.100.41/32 proto 180 table main"]);
    expect(withdrawn.applied).toHaveLength(99);
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

  it("still reports a foreign route seen at the last read as a conflict on an apply from memory", async () => {
    const ip = new FakeIp();
    ip.table.push({ dst: "10.100.100.9/32", gateway: "192.0.2.1", dev: "eth0", protocol: "static" });
    const programmer = new RouteProgrammer({ runner: ip });
    await programmer.apply([r(2)]);
    const callsBefore = ip.calls.length;
    const result = await programmer.apply([r(2), r(9)]);
    expect(result).toMatchObject({ reads: 0, routeCommands: 0 });
    expect(result.failed).toEqual([
      { destination: "10.100.100.9/32", reason: "conflict", message: expect.any(String) },
    ]);
    expect(ip.calls).toHaveLength(callsBefore);
    expect(ip.table).toContainEqual({ dst: "10.100.100.9/32", gateway: "192.0.2.1", dev: "eth0", protocol: "static" });
  });

  it("does not overwrite a foreign route that appeared since the last read: the kernel refuses, the read-back names it", async () => {
    const ip = new FakeIp();
    const programmer = new RouteProgrammer({ runner: ip });
    await programmer.apply([r(2)]);
    ip.table.push({ dst: "10.100.100.9/32", gateway: "192.0.2.1", dev: "eth0", protocol: "static" });
    const refused = await programmer.apply([r(2), r(9)]);
    expect(refused).toMatchObject({ reads: 1, added: 0 });
    expect(refused.failed).toEqual([
      { destination: "10.100.100.9/32", reason: "kernel", message: "RTNETLINK answers: File exists" },
    ]);
    expect(ip.table).toContainEqual({ dst: "10.100.100.9/32", gateway: "192.0.2.1", dev: "eth0", protocol: "static" });
    const again = await programmer.apply([r(2), r(9)]);
    expect(again).toMatchObject({ reads: 0, routeCommands: 0 });
    expect(again.failed).toEqual([{ destination: "10.100.100.9/32", reason: "conflict", message: expect.any(String) }]);
  });

  it("leaves a hand-deleted route to the next kernel read, which puts it back", async () => {
    const ip = new FakeIp();
    const programmer = new RouteProgrammer({ runner: ip });
    await programmer.apply([r(2), r(3)]);
    ip.table.splice(0, 1);
    const fromMemory = await programmer.apply([r(2), r(3)]);
    expect(fromMemory).toMatchObject({ routeCommands: 0, reads: 0 });
    const again = await programmer.apply([r(2), r(3)], { readKernel: true });
    expect(again).toMatchObject({ added: 1, routeCommands: 1, reads: 1 });
    expect(lines(ip.calls.at(-1)?.input)).toEqual([
      "route add 10.100.100.2/32 via 10.200.200.2 dev sbb-aaaaa-2 proto 180 table main",
    ]);
    expect(ip.table.map((x) => x.dst).sort()).toEqual(["10.100.100.2/32", "10.100.100.3/32"]);
  });

  it("removes our route someone re-added with a metric once a read shows it, and puts it back at metric 0", async () => {
    const ip = new FakeIp();
    const programmer = new RouteProgrammer({ runner: ip });
    await programmer.apply([r(2)]);
    ip.table.splice(0, 1, {
      dst: "10.100.100.2/32",
      gateway: "10.200.200.2",
      dev: "sbb-aaaaa-2",
      protocol: "180",
      metric: 7,
    });
    const result = await programmer.apply([r(2)], { readKernel: true });
    expect(result).toMatchObject({ added: 1, removed: 1, reads: 1 });
    expect(ip.table).toEqual([
      { dst: "10.100.100.2/32", gateway: "10.200.200.2", dev: "sbb-aaaaa-2", protocol: "180", metric: 0 },
    ]);
  });

  it("reports the routes the kernel refused and reads back what it really holds afterwards", async () => {
    const ip = new FakeIp();
    const programmer = new RouteProgrammer({ runner: ip });
    const result = await programmer.apply([r(2), r(3, "10.200.200.9", "sbb-down-9")]);
    expect(result.failed).toEqual([
      { destination: "10.100.100.3/32", reason: "kernel", message: 'Cannot find device "sbb-down-9"' },
    ]);
    expect(result.applied).toEqual([r(2)]);
    expect(result).toMatchObject({ added: 1, reads: 2 });

    // A failure on an apply from memory reads back too, and the memory follows the kernel.
    const moved = await programmer.apply([r(2, "10.200.200.9", "sbb-down-9"), r(4)]);
    expect(moved).toMatchObject({ added: 1, reads: 1 });
    expect(moved.failed.map((f) => f.destination)).toEqual(["10.100.100.2/32"]);
    expect(moved.applied.map((x) => [x.destination, x.via]).sort()).toEqual([
      ["10.100.100.2/32", "10.200.200.2"],
      ["10.100.100.4/32", "10.200.200.2"],
    ]);
    const next = await programmer.apply([r(2), r(4)]);
    expect(next).toMatchObject({ routeCommands: 0, reads: 0, failed: [] });
  });

  it("reads the table again after ip could not run at all", async () => {
    const ip = new FakeIp();
    const programmer = new RouteProgrammer({ runner: ip });
    await programmer.apply([r(2)]);
    const broken = {
      run: (file: string, args: readonly string[], input?: string) =>
        args.includes("-batch") ? Promise.reject(new Error("spawn ip ENOENT")) : ip.run(file, args, input),
    };
    const flaky = new RouteProgrammer({ runner: broken });
    await flaky.apply([r(2)]);
    await expect(flaky.apply([r(2), r(3)])).rejects.toThrow("ENOENT");
    const readsBefore = ip.calls.length;
    expect(await flaky.apply([r(2)])).toMatchObject({ reads: 1, routeCommands: 0 });
    expect(ip.calls.length).toBe(readsBefore + 1);
  });

  it("refuses a non-snapshot update that withdraws more than half, counting from memory", async () => {
    const ip = new FakeIp();
    const programmer = new RouteProgrammer({ runner: ip });
    const all = Array.from({ length: 20 }, (_, i) => r(i + 2));
    await programmer.apply(all);
    const callsBefore = ip.calls.length;
    const refused = await programmer.apply(all.slice(0, 5));
    expect(refused.failed[0]).toMatchObject({ reason: "guard", message: expect.stringContaining("15 of 20 routes") });
    expect(refused).toMatchObject({ routeCommands: 0, reads: 0 });
    expect(refused.applied).toHaveLength(20);
    expect(ip.calls).toHaveLength(callsBefore);
    expect(ip.table).toHaveLength(20);
    const accepted = await programmer.apply(all.slice(0, 5), { verifiedFullSnapshot: true });
    expect(accepted).toMatchObject({ removed: 15, failed: [], reads: 0 });
    expect(ip.table).toHaveLength(5);
  });

  it("with keepIpRunning, an ip that cannot start fails the batch and the table is read back", async () => {
    const ip = new FakeIp();
    const programmer = new RouteProgrammer({ runner: ip, ipPath: "/nonexistent/ip", keepIpRunning: true });
    const result = await programmer.apply([r(2)]);
    expect(result).toMatchObject({ reads: 2, routeCommands: 1, applied: [] });
    expect(result.failed).toEqual([
      { destination: "0.0.0.0/0", reason: "kernel", message: expect.stringContaining("ENOENT") },
    ]);
    programmer.close();
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
    // From memory the programmer does not know; the periodic reconcile's read puts it back.
    expect(await programmer.apply([r(2), r(3)])).toMatchObject({ routeCommands: 0, reads: 0 });
    expect(routes()).not.toContain("10.100.100.3 ");
    const restored = await programmer.apply([r(2), r(3)], { readKernel: true });
    expect(restored).toMatchObject({ added: 1, routeCommands: 1, reads: 1 });
    expect(routes()).toContain("10.100.100.3 via 10.200.200.2 dev sbb-aaaaa-2 proto 180");

    const moved = await programmer.apply([r(3)]);
    expect(moved).toMatchObject({ removed: 1 });
    expect(routes()).not.toContain("10.100.100.2 ");
    expect(routes()).toContain("10.100.100.77 via 10.200.200.9 dev sbb-aaaaa-2 proto static");
  });

  it("on a real kernel: a route added by hand since the last read is not overwritten, then reads as a conflict", async () => {
    const programmer = new RouteProgrammer({ runner: spawnRunner(), netns: ns });
    await programmer.apply([r(3)], { verifiedFullSnapshot: true });
    ip("route", "add", "10.100.100.88/32", "via", "10.200.200.9", "dev", "sbb-aaaaa-2", "proto", "static");
    const refused = await programmer.apply([r(3), r(88)]);
    expect(refused.failed).toEqual([
      { destination: "10.100.100.88/32", reason: "kernel", message: expect.stringContaining("File exists") },
    ]);
    expect(refused.reads).toBe(1);
    expect(routes()).toContain("10.100.100.88 via 10.200.200.9 dev sbb-aaaaa-2 proto static");
    const again = await programmer.apply([r(3), r(88)]);
    expect(again).toMatchObject({ reads: 0, routeCommands: 0 });
    expect(again.failed.map((f) => [f.destination, f.reason])).toEqual([["10.100.100.88/32", "conflict"]]);
    ip("route", "del", "10.100.100.88/32");
  });

  it("on a real kernel, through one long-running ip: changes, errors renumbered per batch, a restart after ip is gone", async () => {
    const programmer = new RouteProgrammer({ runner: spawnRunner(), netns: ns, keepIpRunning: true });
    try {
      expect(await programmer.apply([r(5), r(6)], { verifiedFullSnapshot: true })).toMatchObject({ failed: [] });
      const moved = await programmer.apply([r(5, "10.200.200.3"), r(6)]);
      expect(moved).toMatchObject({ added: 1, reads: 0, failed: [] });
      expect(routes()).toContain("10.100.100.5 via 10.200.200.3 dev sbb-aaaaa-2 proto 180");

      // The second line of this batch fails: it is named as the batch's own line, not ip's 5th.
      const partly = await programmer.apply([
        r(5, "10.200.200.3"),
        r(6, "10.200.200.4"),
        r(7, "10.200.200.4", "sbb-none-9"),
      ]);
      expect(partly.failed).toEqual([
        { destination: "10.100.100.7/32", reason: "kernel", message: expect.stringContaining("sbb-none-9") },
      ]);
      expect(partly).toMatchObject({ added: 1, reads: 1 });
      expect(routes()).toContain("10.100.100.6 via 10.200.200.4 dev sbb-aaaaa-2 proto 180");

      programmer.close();
      const after = await programmer.apply([r(5), r(6, "10.200.200.4")]);
      expect(after).toMatchObject({ added: 1, failed: [], reads: 0 });
      expect(routes()).toContain("10.100.100.5 via 10.200.200.2 dev sbb-aaaaa-2 proto 180");
      expect(routes()).not.toContain("10.100.100.7 ");
    } finally {
      programmer.close();
    }
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
