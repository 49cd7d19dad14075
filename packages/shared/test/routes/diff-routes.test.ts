import { describe, expect, it } from "vitest";
import { applyRouteChange, computeRoutes, diffRoutes, type RouteSnapshot } from "../../src/routes/index.ts";
import { base, T0 } from "./fixtures.ts";

const connect = (snapshot: RouteSnapshot, commonName: string, switchId: string, at: number): RouteSnapshot => ({
  ...snapshot,
  sessions: [...snapshot.sessions, { commonName, switchId, connectedAt: at }],
});
const disconnect = (snapshot: RouteSnapshot, commonName: string): RouteSnapshot => ({
  ...snapshot,
  sessions: snapshot.sessions.filter((s) => s.commonName !== commonName),
});

describe("diffRoutes", () => {
  it("reports nothing when nothing changed", () => {
    expect(diffRoutes(computeRoutes(base), computeRoutes(base))).toEqual([]);
  });

  it("sends a new connection only to the other switches, never to the host's own", () => {
    const changes = diffRoutes(computeRoutes(base), computeRoutes(connect(base, "cache-1", "sw-a", T0)));
    expect(changes.map((c) => c.switchId)).toEqual(["sw-b", "sw-c"]);
    for (const change of changes) {
      expect(change.upsert).toEqual([
        { destination: "10.100.100.12/32", via: "10.200.200.1", dev: expect.any(String) },
      ]);
      expect(change.remove).toEqual([]);
    }
  });

  it("withdraws a disconnected host everywhere else", () => {
    const changes = diffRoutes(computeRoutes(base), computeRoutes(disconnect(base, "db-1")));
    expect(changes).toEqual([
      { switchId: "sw-a", upsert: [], remove: ["10.100.100.11/32"] },
      { switchId: "sw-c", upsert: [], remove: ["10.100.100.11/32"] },
    ]);
  });

  it("on a roam, re-points the host on third switches, adds it on the old one and removes it on the new one", () => {
    const roamed = connect(base, "db-1", "sw-c", T0 + 2000);
    const changes = diffRoutes(computeRoutes(base), computeRoutes(roamed));
    const bySwitch = Object.fromEntries(changes.map((c) => [c.switchId, c]));
    expect(bySwitch["sw-a"]?.upsert.map((r) => `${r.destination} via ${r.via}`)).toEqual([
      "10.100.100.11/32 via 10.200.200.3",
    ]);
    expect(bySwitch["sw-b"]?.upsert.map((r) => `${r.destination} via ${r.via}`)).toEqual([
      "10.100.100.11/32 via 10.200.200.3",
    ]);
    expect(bySwitch["sw-c"]).toEqual({ switchId: "sw-c", upsert: [], remove: ["10.100.100.11/32"] });
  });

  it("ignores a stale report of an older session arriving after the roam", () => {
    const roamed = connect(base, "db-1", "sw-c", T0 + 2000);
    const staleAgain = connect(roamed, "db-1", "sw-b", T0 + 1000);
    expect(diffRoutes(computeRoutes(roamed), computeRoutes(staleAgain))).toEqual([]);
  });

  it("covers switches that appear or disappear", () => {
    const before = new Map([["sw-x", [{ destination: "10.1.1.1/32", via: "10.2.2.2", dev: "d" }]]]);
    const after = new Map([["sw-y", [{ destination: "10.1.1.1/32", via: "10.2.2.2", dev: "d" }]]]);
    expect(diffRoutes(before, after).map((c) => [c.switchId, c.upsert.length, c.remove.length])).toEqual([
      ["sw-x", 0, 1],
      ["sw-y", 1, 0],
    ]);
  });

  it("applying each change to the previous list yields the next list", () => {
    const previous = computeRoutes(base);
    const next = computeRoutes(disconnect(connect(base, "db-1", "sw-a", T0 + 9000), "web-1"));
    for (const change of diffRoutes(previous, next)) {
      const applied = applyRouteChange(previous.get(change.switchId) ?? [], change);
      const sorted = (list: readonly { destination: string }[]) =>
        [...list].sort((a, b) => (a.destination < b.destination ? -1 : 1));
      expect(sorted(applied)).toEqual(sorted(next.get(change.switchId) ?? []));
    }
  });
});
