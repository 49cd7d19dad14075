import type { Route, RouteSession } from "@switchboard/shared";
import { describe, expect, it } from "vitest";
import type { NetworkView } from "../../src/features/agents/state/network-view.ts";
import { type RouteChange, RouteState } from "../../src/features/agents/state/route-state.ts";

/** Just what RouteState reads of a view: network, switches, route hosts. */
function view(hostCount: number, disabledSwitch?: string): NetworkView {
  const switches = ["a", "b", "c", "d"].map((name, i) => ({
    id: `sw-${name}`,
    name,
    endpointHost: `${name}.example.net`,
    endpointPort: 1194,
    dataAddress: `10.100.0.${i + 1}`,
    poolStart: null,
    poolEnd: null,
    backboneAddress: `10.200.0.${i + 1}`,
    enabled: `sw-${name}` !== disabledSwitch,
  }));
  const routeHosts = Array.from({ length: hostCount }, (_, i) => ({
    commonName: `h${i}`,
    address: `10.100.1.${i + 1}`,
    subnets: i % 5 === 0 ? [`192.168.${i}.0/24`] : [],
    enabled: i % 7 !== 3,
  }));
  return {
    networkId: "net",
    revision: 1,
    network: {
      name: "route-state",
      dataSubnet: "10.100.0.0/16",
      backboneSubnet: "10.200.0.0/24",
      proto: "udp",
      port: 1194,
      keepaliveInterval: 2,
      keepaliveTimeout: 10,
      dataCiphers: ["AES-256-GCM"],
      pushRoutes: [],
      dnsServers: [],
    },
    switches,
    hosts: [],
    routeHosts,
    hostIds: new Map(),
    warnings: [],
    partsFor: () => {
      throw new Error("not used");
    },
    hostNamed: () => undefined,
    putHost: () => {
      throw new Error("not used");
    },
    removeHost: () => false,
  };
}

/** A seeded generator, so a failure can be replayed. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const sorted = (routes: Route[]) => [...routes].sort((x, y) => x.destination.localeCompare(y.destination));

describe("route state: re-placing moved hosts gives what a full recompute gives", () => {
  it.each([1, 2, 3])("over 300 random connects, roams and disconnects (seed %i)", (seed) => {
    const next = random(seed);
    const v = view(40, seed === 3 ? "sw-d" : undefined);
    const live = new Map<string, RouteSession>();
    const incremental = new RouteState();
    incremental.recompute(v, []);
    let clock = 1000;
    for (let step = 0; step < 300; step++) {
      const moved: string[] = [];
      for (let k = 0; k < 1 + Math.floor(next() * 4); k++) {
        const cn = `h${Math.floor(next() * 40)}`;
        if (next() < 0.25) live.delete(cn);
        else live.set(cn, { commonName: cn, switchId: `sw-${"abcd"[Math.floor(next() * 4)]}`, connectedAt: clock++ });
        moved.push(cn);
      }
      const changes = incremental.replace(v, moved, (cn) => live.get(cn)?.switchId) as Map<string, RouteChange>;
      expect(changes).toBeDefined();
      const full = new RouteState();
      full.recompute(v, [...live.values()]);
      for (const sw of v.switches) {
        expect(sorted(incremental.routesOf(sw.id)), `${sw.id} after step ${step}`).toEqual(
          sorted(full.routesOf(sw.id)),
        );
      }
    }
  });

  it("reports only the switches whose routes changed, with the routes to add and withdraw", () => {
    const v = view(10);
    const state = new RouteState();
    state.recompute(v, []);
    const first = state.replace(v, ["h1"], () => "sw-a") as Map<string, RouteChange>;
    expect([...first.keys()].sort()).toEqual(["sw-b", "sw-c", "sw-d"]);
    expect(first.get("sw-b")).toEqual({
      upsert: [{ destination: "10.100.1.2/32", via: "10.200.0.1", dev: expect.stringMatching(/^sbb-/) }],
      remove: [],
    });
    const roam = state.replace(v, ["h1"], () => "sw-b") as Map<string, RouteChange>;
    expect(roam.get("sw-b")).toEqual({ upsert: [], remove: ["10.100.1.2/32"] });
    expect(roam.get("sw-a")?.upsert.map((r) => r.via)).toEqual(["10.200.0.2"]);
    expect(roam.get("sw-c")?.upsert.map((r) => r.via)).toEqual(["10.200.0.2"]);
  });

  it("refuses the shortcut when a destination is claimed twice, so the caller recomputes", () => {
    const v = view(3);
    const clash = { ...v, routeHosts: [...v.routeHosts, { ...v.routeHosts[0], commonName: "twin" }] } as NetworkView;
    const state = new RouteState();
    state.recompute(clash, []);
    expect(state.replace(clash, ["h0"], () => "sw-a")).toBeUndefined();
  });
});
