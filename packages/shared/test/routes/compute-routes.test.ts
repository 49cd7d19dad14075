import { describe, expect, it } from "vitest";
import { backboneDeviceName, RenderError, serverDeviceName } from "../../src/render/index.ts";
import { computeRoutes, type RouteSession, type RouteSnapshot } from "../../src/routes/index.ts";
import { base, network, swA, swB, swC, T0 } from "./fixtures.ts";

const devA = backboneDeviceName(network, swA);
const devB = backboneDeviceName(network, swB);
const devC = backboneDeviceName(network, swC);
const tun = serverDeviceName(network);

function withSessions(sessions: RouteSession[], snapshot: RouteSnapshot = base): RouteSnapshot {
  return { ...snapshot, sessions };
}

describe("computeRoutes", () => {
  it("gives each switch the other switches' data addresses and the hosts connected elsewhere, via their backbone", () => {
    const table = computeRoutes(base);

    expect(table.get("sw-a")).toEqual([
      { destination: "10.100.100.2/32", via: "10.200.200.2", dev: devB },
      { destination: "10.100.100.3/32", via: "10.200.200.3", dev: devC },
      { destination: "10.100.100.11/32", via: "10.200.200.2", dev: devB },
      { destination: "192.168.10.0/24", via: "10.100.100.10", dev: tun },
    ]);
    expect(table.get("sw-b")).toEqual([
      { destination: "10.100.100.1/32", via: "10.200.200.1", dev: devA },
      { destination: "10.100.100.3/32", via: "10.200.200.3", dev: devC },
      { destination: "10.100.100.10/32", via: "10.200.200.1", dev: devA },
      { destination: "192.168.10.0/24", via: "10.200.200.1", dev: devA },
    ]);
    expect(table.get("sw-c")).toEqual([
      { destination: "10.100.100.1/32", via: "10.200.200.1", dev: devA },
      { destination: "10.100.100.2/32", via: "10.200.200.2", dev: devB },
      { destination: "10.100.100.10/32", via: "10.200.200.1", dev: devA },
      { destination: "10.100.100.11/32", via: "10.200.200.2", dev: devB },
      { destination: "192.168.10.0/24", via: "10.200.200.1", dev: devA },
    ]);
  });

  it("never routes a host on its own switch over the backbone", () => {
    const table = computeRoutes(base);
    expect(table.get("sw-a")?.map((r) => r.destination)).not.toContain("10.100.100.10/32");
    expect(table.get("sw-b")?.map((r) => r.destination)).not.toContain("10.100.100.11/32");
  });

  it("gives a switched-off switch no routes and routes nothing toward it, even with a session reported there", () => {
    const table = computeRoutes(
      withSessions([...base.sessions, { commonName: "cache-1", switchId: "sw-off", connectedAt: T0 + 5000 }]),
    );
    expect(table.get("sw-off")).toEqual([]);
    for (const id of ["sw-a", "sw-b", "sw-c"]) {
      const destinations = table.get(id)?.map((r) => r.destination) ?? [];
      expect(destinations).not.toContain("10.100.100.4/32");
      expect(destinations).not.toContain("10.100.100.12/32");
    }
  });

  it("routes neither disabled hosts nor unknown common names, nor sessions on unknown switches", () => {
    const table = computeRoutes(
      withSessions([
        ...base.sessions,
        { commonName: "retired", switchId: "sw-b", connectedAt: T0 },
        { commonName: "stranger", switchId: "sw-b", connectedAt: T0 },
        { commonName: "cache-1", switchId: "sw-gone", connectedAt: T0 },
      ]),
    );
    const all = [...table.values()].flat().map((r) => r.destination);
    expect(all).not.toContain("10.100.100.13/32");
    expect(all).not.toContain("10.100.100.12/32");
  });

  describe("roaming: a host with sessions on two switches", () => {
    const older = { commonName: "web-1", switchId: "sw-a", connectedAt: T0 };
    const newer = { commonName: "web-1", switchId: "sw-b", connectedAt: T0 + 1000 };
    const dbOnC = { commonName: "db-1", switchId: "sw-c", connectedAt: T0 };

    for (const [label, sessions] of [
      ["old report first", [older, newer, dbOnC]],
      ["new report first", [newer, older, dbOnC]],
    ] as const) {
      it(`follows the newest session (${label})`, () => {
        const table = computeRoutes(withSessions([...sessions]));
        expect(table.get("sw-a")).toContainEqual({ destination: "10.100.100.10/32", via: "10.200.200.2", dev: devB });
        expect(table.get("sw-a")).toContainEqual({ destination: "192.168.10.0/24", via: "10.200.200.2", dev: devB });
        expect(table.get("sw-b")?.map((r) => r.destination)).not.toContain("10.100.100.10/32");
        expect(table.get("sw-b")).toContainEqual({ destination: "192.168.10.0/24", via: "10.100.100.10", dev: tun });
        expect(table.get("sw-c")).toContainEqual({ destination: "10.100.100.10/32", via: "10.200.200.2", dev: devB });
      });
    }

    it("mixes ISO and epoch timestamps and still picks the newest", () => {
      const iso = { ...newer, connectedAt: new Date(T0 + 1000).toISOString() };
      const table = computeRoutes(withSessions([iso, older]));
      expect(table.get("sw-a")).toContainEqual({ destination: "10.100.100.10/32", via: "10.200.200.2", dev: devB });
    });

    it("breaks a tie on equal times the same way whatever the order", () => {
      const tieA = { ...older };
      const tieB = { ...newer, connectedAt: T0 };
      expect(computeRoutes(withSessions([tieA, tieB]))).toEqual(computeRoutes(withSessions([tieB, tieA])));
    });

    it("ignores a stale, newer-looking session on a disabled switch instead of losing the host", () => {
      const stale = { commonName: "web-1", switchId: "sw-off", connectedAt: T0 + 60_000 };
      const table = computeRoutes(withSessions([stale, older]));
      expect(table.get("sw-b")).toContainEqual({ destination: "10.100.100.10/32", via: "10.200.200.1", dev: devA });
    });

    it("treats an unreadable timestamp as the oldest", () => {
      const garbled = { ...newer, connectedAt: "yesterday-ish" };
      const table = computeRoutes(withSessions([garbled, older]));
      expect(table.get("sw-b")).toContainEqual({ destination: "10.100.100.10/32", via: "10.200.200.1", dev: devA });
    });
  });

  it("names the backbone device exactly as the backbone link configs do", () => {
    const routes = computeRoutes(base).get("sw-c") ?? [];
    expect(new Set(routes.map((r) => r.dev))).toEqual(new Set([devA, devB]));
    expect(devA).toMatch(/^sbb-[0-9a-z]{5}-1$/);
  });

  it("refuses an inconsistent snapshot with a RenderError naming the field", () => {
    const bad = { ...base, hosts: [{ commonName: "x", address: "10.100.100.1", subnets: [], enabled: true }] };
    expect(() => computeRoutes(bad)).toThrow(RenderError);
    expect(() => computeRoutes(bad)).toThrow(/hosts\[0\]\.address/);
    expect(() => computeRoutes({ ...base, switches: [swA, { ...swB, backboneAddress: "10.200.200.1" }] })).toThrow(
      /backboneAddress/,
    );
  });

  // How fast is `pnpm bench:routes`' business (against a per-switch loop); this keeps the result right at size.
  it("gives each of 20 switches its 19 peers and the 4,750 hosts connected elsewhere, 5,000 hosts in all", () => {
    const switches = Array.from({ length: 20 }, (_, i) => ({
      ...swA,
      id: `sw-${i}`,
      dataAddress: `10.100.0.${i + 1}`,
      backboneAddress: `10.200.200.${i + 1}`,
    }));
    const hosts = Array.from({ length: 5000 }, (_, i) => ({
      commonName: `h-${i}`,
      address: `10.100.${1 + Math.floor(i / 250)}.${(i % 250) + 1}`,
      subnets: [],
      enabled: true,
    }));
    const sessions = hosts.map((h, i) => ({ commonName: h.commonName, switchId: `sw-${i % 20}`, connectedAt: T0 }));
    const table = computeRoutes({ network: { ...network, dataSubnet: "10.100.0.0/16" }, switches, hosts, sessions });
    for (const [id, routes] of table) {
      expect(routes, id).toHaveLength(19 + 4750);
      expect(
        routes.some((route) => route.via === `10.200.200.${Number(id.slice(3)) + 1}`),
        id,
      ).toBe(false);
    }
  });
});
