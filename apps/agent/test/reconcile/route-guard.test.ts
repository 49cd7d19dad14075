import { FakeIp } from "@switchboard/testkit/agent/fake-ip";
import { describe, expect, it } from "vitest";
import { RouteGuard } from "../../src/reconcile/route-guard.ts";
import { RouteProgrammer } from "../../src/routes/route-programmer.ts";
import { desiredState } from "../support/desired.ts";

/** A switch at 198.18.10.2 behind its provider's router 198.18.10.1; the API and peers elsewhere. */
function uplinked(): FakeIp {
  const ip = new FakeIp();
  ip.uplink = { gateway: "198.18.10.1", dev: "eth0" };
  return ip;
}

function guardOn(ip: FakeIp, options: { apiHost?: string; names?: Record<string, string[]> } = {}) {
  const programmer = new RouteProgrammer({ runner: ip });
  const resolved: string[] = [];
  const guard = new RouteGuard({
    lookup: (address) => programmer.lookup(address),
    defaultGateways: () => programmer.defaultGateways(),
    apiHosts: options.apiHost ? [options.apiHost] : [],
    resolve: async (name) => {
      resolved.push(name);
      const answer = options.names?.[name];
      if (!answer) throw new Error("NXDOMAIN");
      return answer;
    },
  });
  return { guard, resolved };
}

const lookups = (ip: FakeIp) => ip.calls.filter((c) => c.args.includes("get")).map((c) => c.args.at(-1));
const withRoute = (destination: string, links = desiredState().links) =>
  desiredState({
    links,
    routes: [...desiredState().routes, { destination, via: "10.200.200.2", dev: "sbb-aaaaa-2" }],
    routeCount: 4,
  });
const linkTo = (remote: string) => [
  { peerOffset: 2, config: `dev sbb-aaaaa-2\nproto udp\nlport 1196\nremote ${remote} 1195\n` },
];

describe("RouteGuard: the kernel's lookup decides what a switch must keep reaching", () => {
  it("refuses a route covering the API host, resolved by name, and one covering the uplink gateway", async () => {
    const ip = uplinked();
    const { guard } = guardOn(ip, { apiHost: "api.example", names: { "api.example": ["203.0.113.5"] } });
    const api = await guard.check(withRoute("128.0.0.0/1"));
    expect(api).toEqual([
      {
        scope: "route",
        target: "128.0.0.0/1",
        message: expect.stringContaining("covers 203.0.113.5, the API host api.example (203.0.113.5)"),
      },
    ]);
    const gateway = await guard.check(withRoute("198.18.10.0/24"));
    expect(gateway.map((e) => [e.target, e.message.includes("covers 198.18.10.1")])).toEqual([
      ["198.18.10.0/24", true],
    ]);
    expect(await guard.check(desiredState())).toEqual([]);
  });

  it("refuses a route covering a backbone peer's endpoint or the gateway the kernel uses toward it", async () => {
    const ip = uplinked();
    // The peer sits behind another router than the default one (a second uplink).
    ip.table.push({ dst: "198.51.100.0/24", gateway: "192.0.2.254", dev: "eth1", protocol: "boot" });
    const { guard } = guardOn(ip);
    const links = linkTo("198.51.100.20");
    expect((await guard.check(withRoute("198.51.100.16/28", links))).map((e) => e.target)).toEqual([
      "198.51.100.16/28",
    ]);
    const viaGateway = await guard.check(withRoute("192.0.2.0/24", links));
    expect(viaGateway[0]?.message).toContain("covers 192.0.2.254, the gateway toward the endpoint of backbone peer 2");
  });

  it("checks what the configs' ifconfig lines route too: a data subnet or link peer covering the API (review)", async () => {
    const { guard } = guardOn(uplinked(), { apiHost: "203.0.113.5" });
    const state = desiredState();
    // A compromised API keeps the allow-list (any address and mask pass there) but widens the mask.
    const wide = `${state.server.serverConfig}\nifconfig 203.0.113.1 255.255.255.0\n`;
    const errors = await guard.check({ ...state, server: { ...state.server, serverConfig: wide } });
    expect(errors.map((e) => [e.target, e.message.includes("the data server's ifconfig")])).toEqual([
      ["203.0.113.0/24", true],
    ]);
    const peer = [
      { peerOffset: 2, config: "dev sbb-aaaaa-2\nproto udp\nlport 1196\nifconfig 10.200.200.1 203.0.113.5\n" },
    ];
    const linked = await guard.check({ ...state, links: peer });
    expect(linked.map((e) => e.target)).toEqual(["203.0.113.5/32"]);
    const usual = `${state.server.serverConfig}\nifconfig 10.100.100.1 255.255.255.0\n`;
    expect(await guard.check({ ...state, server: { ...state.server, serverConfig: usual } })).toEqual([]);
  });

  it("checks the subnets behind hosts too: they become routes the moment such a host connects here", async () => {
    const { guard } = guardOn(uplinked(), { apiHost: "203.0.113.5" });
    const state = desiredState();
    const hosts = state.hosts.map((h) => (h.commonName === "db-1" ? { ...h, subnets: ["203.0.113.0/24"] } : h));
    const errors = await guard.check({ ...state, hosts });
    expect(errors.map((e) => [e.target, e.message.startsWith("refused (subnet behind host db-1)")])).toEqual([
      ["203.0.113.0/24", true],
    ]);
  });

  it("leaves out an address the kernel delivers locally (an API on this very machine)", async () => {
    const ip = new FakeIp();
    ip.localAddresses.add("203.0.113.5");
    const { guard } = guardOn(ip, { apiHost: "203.0.113.5" });
    expect(await guard.keptAddresses(desiredState())).toEqual([]);
  });

  it("looks again only when the names change or a full snapshot asks for it", async () => {
    const ip = uplinked();
    const { guard, resolved } = guardOn(ip, { apiHost: "api.example", names: { "api.example": ["203.0.113.5"] } });
    await guard.check(desiredState());
    await guard.check(withRoute("10.1.2.0/24"));
    expect(lookups(ip)).toEqual(["203.0.113.5"]);
    await guard.check(withRoute("10.1.2.0/24", linkTo("198.51.100.20")));
    expect(lookups(ip)).toEqual(["203.0.113.5", "203.0.113.5", "198.51.100.20"]);
    await guard.check(desiredState(), { fresh: true });
    expect(resolved).toEqual(["api.example", "api.example", "api.example"]);
  });

  it("keeps going when a name does not resolve: the addresses it could learn still count", async () => {
    const warnings: string[] = [];
    const ip = uplinked();
    const programmer = new RouteProgrammer({ runner: ip });
    const guard = new RouteGuard({
      lookup: (address) => programmer.lookup(address),
      defaultGateways: () => programmer.defaultGateways(),
      apiHosts: ["gone.example"],
      resolve: async () => {
        throw new Error("NXDOMAIN");
      },
      warn: (message) => warnings.push(message),
    });
    expect(await guard.keptAddresses(desiredState())).toEqual([
      { address: "198.18.10.1", what: "the uplink gateway (default route)" },
    ]);
    expect(warnings).toEqual(["route guard: cannot resolve gone.example: NXDOMAIN"]);
  });
});
