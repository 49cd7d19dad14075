import { applyDelta } from "@switchboard/shared";
import { describe, expect, it } from "vitest";
import { isVerifiedSnapshot } from "../../src/reconcile/desired-state.ts";
import { withLocalSessions } from "../../src/reconcile/local-routes.ts";
import { desiredState } from "../support/desired.ts";

const delta = (overrides = {}) => ({
  type: "desired-state-delta" as const,
  switchId: "sw-a",
  baseRevision: 7,
  revision: 8,
  ...overrides,
});

describe("applyDelta", () => {
  it("applies host, link, route and server changes on top of the base revision", () => {
    const result = applyDelta(desiredState(), {
      ...delta(),
      server: { crl: "CRL 2\n" },
      hosts: {
        upsert: [{ commonName: "new-1", address: "10.100.100.20", subnets: [], clientConfig: "x\n" }],
        remove: ["db-1"],
      },
      links: { upsert: [{ peerOffset: 3, config: "c\n" }], remove: [2] },
      routes: {
        upsert: [{ destination: "10.100.100.20/32", via: "10.200.200.2", dev: "sbb-aaaaa-2" }],
        remove: ["10.100.100.10/32"],
      },
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.state.revision).toBe(8);
    expect(result.state.server.crl).toBe("CRL 2\n");
    expect(result.state.server.serverKey).toBe("KEY\n");
    expect(result.state.hosts.map((h) => h.commonName)).toEqual(["web-1", "old-laptop", "new-1"]);
    expect(result.state.links).toEqual([{ peerOffset: 3, config: "c\n" }]);
    expect(result.state.routes.map((r) => r.destination)).toEqual([
      "10.100.100.2/32",
      "192.168.10.0/24",
      "10.100.100.20/32",
    ]);
    expect(result.state.routeCount).toBe(3);
  });

  it("refuses a delta that does not start at our revision, an old one, one for another switch, or one without a base", () => {
    expect(applyDelta(desiredState(), delta({ baseRevision: 6 }))).toEqual({ ok: false, reason: "revision-gap" });
    expect(applyDelta(desiredState(), delta({ revision: 7 }))).toEqual({ ok: false, reason: "stale" });
    expect(applyDelta(desiredState(), delta({ switchId: "sw-b" }))).toEqual({ ok: false, reason: "switch-mismatch" });
    expect(applyDelta(undefined, delta())).toEqual({ ok: false, reason: "no-base" });
  });
});

describe("isVerifiedSnapshot", () => {
  it("trusts a snapshot only when it carries exactly the routes it announces", () => {
    expect(isVerifiedSnapshot(desiredState())).toBe(true);
    expect(isVerifiedSnapshot(desiredState({ routeCount: 4 }))).toBe(false);
    const dup = desiredState().routes[0];
    if (dup) expect(isVerifiedSnapshot(desiredState({ routes: [dup, dup], routeCount: 2 }))).toBe(false);
  });
});

// Each test builds its own state: none may see what another's call did to a shared one.
describe("withLocalSessions", () => {
  it("drops the /32 of a host connected here and points its subnets into the tun", () => {
    const state = desiredState();
    expect(withLocalSessions(state.routes, state.hosts, ["web-1"], "sbs-aaaaa")).toEqual([
      { destination: "10.100.100.2/32", via: "10.200.200.2", dev: "sbb-aaaaa-2" },
      { destination: "192.168.10.0/24", via: "10.100.100.10", dev: "sbs-aaaaa" },
    ]);
  });

  it("ignores unknown and disabled hosts, and changes nothing when nobody is connected", () => {
    const state = desiredState();
    expect(withLocalSessions(state.routes, state.hosts, ["stranger", "old-laptop"], "sbs-aaaaa")).toEqual(state.routes);
    expect(withLocalSessions(state.routes, state.hosts, [], "sbs-aaaaa")).toEqual(desiredState().routes);
  });

  it("adds a subnet route the API has not sent yet for a host that just connected here", () => {
    const state = desiredState();
    const routes = withLocalSessions([], state.hosts, ["web-1"], "sbs-aaaaa");
    expect(routes).toEqual([{ destination: "192.168.10.0/24", via: "10.100.100.10", dev: "sbs-aaaaa" }]);
  });
});
