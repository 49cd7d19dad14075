import { applyDelta, type DesiredState, type DesiredStateDelta } from "@switchboard/shared";
import { describe, expect, it } from "vitest";
import { deltaTouchesRoutes, planDelta } from "../../src/reconcile/delta-plan.ts";
import type { Action, ObservedSession } from "../../src/reconcile/plan.ts";
import { desiredState } from "../support/desired.ts";

/** The delta plan follows plan.ts's rules over only what the delta names. */
function planned(parts: Partial<DesiredStateDelta>, sessions: ObservedSession[] = [], serverInstalled = true) {
  const before = desiredState();
  const delta: DesiredStateDelta = {
    type: "desired-state-delta",
    switchId: "sw-a",
    baseRevision: 7,
    revision: 8,
    ...parts,
  };
  const result = applyDelta(before, delta);
  if (!result.ok) throw new Error(result.reason);
  const after: DesiredState = result.state;
  return planDelta({
    before,
    after,
    delta,
    hostBefore: (name) => before.hosts.find((host) => host.commonName === name),
    sessions: new Map(sessions.map((session) => [session.commonName, session])),
    routes: undefined,
    serverInstalled,
  });
}

const kinds = (actions: Action[]) =>
  actions.map((a) =>
    a.kind === "write-file" || a.kind === "remove-file"
      ? `${a.kind} ${a.path}`
      : a.kind === "kill-session"
        ? `kill ${a.commonName} ${a.because}`
        : a.kind === "reload-link"
          ? `reload-link ${a.peerOffset}`
          : a.kind,
  );

const connected: ObservedSession[] = [
  { commonName: "web-1", clientId: 1 },
  { commonName: "db-1", clientId: 2 },
];

describe("planDelta", () => {
  it("a host whose ccd changed: its file, then its kill; an unchanged upsert does nothing", () => {
    const db = { ...desiredState().hosts[1], clientConfig: "ifconfig-push 10.100.100.11 255.255.0.0\n" } as never;
    expect(kinds(planned({ hosts: { upsert: [db], remove: [] } }, connected))).toEqual([
      "write-file ccd/db-1",
      "kill db-1 client-config-changed",
    ]);
    const same = desiredState().hosts[1] as never;
    expect(kinds(planned({ hosts: { upsert: [same], remove: [] } }, connected))).toEqual([]);
  });

  it("removed and disabled hosts: file removed, session killed", () => {
    const disabled = { ...desiredState().hosts[0], clientConfig: null } as never;
    expect(kinds(planned({ hosts: { upsert: [disabled], remove: ["db-1"] } }, connected))).toEqual([
      "remove-file ccd/web-1",
      "remove-file ccd/db-1",
      "kill web-1 host-disabled",
      "kill db-1 host-removed",
    ]);
  });

  it("a server key change reloads the server instead of kills; the CRL alone reloads nothing", () => {
    const db = { ...desiredState().hosts[1], clientConfig: "x\n" } as never;
    expect(kinds(planned({ server: { serverKey: "KEY2\n" }, hosts: { upsert: [db], remove: [] } }, connected))).toEqual(
      ["write-file server.key", "write-file ccd/db-1", "reload-server"],
    );
    expect(kinds(planned({ server: { crl: "CRL2\n" } }, connected))).toEqual(["write-file crl.pem"]);
    // Nothing installed yet: no server to reload, the kills stay.
    expect(
      kinds(planned({ server: { serverKey: "KEY2\n" }, hosts: { upsert: [db], remove: [] } }, connected, false)),
    ).toEqual(["write-file server.key", "write-file ccd/db-1", "kill db-1 client-config-changed"]);
  });

  it("links: a changed config reloads that link, backbone credentials reload every link, a removed link's file goes", () => {
    const link = { peerOffset: 2, config: `${desiredState().links[0]?.config}verb 4\n` };
    expect(kinds(planned({ links: { upsert: [link], remove: [] } }))).toEqual([
      "write-file backbone-2.conf",
      "reload-link 2",
    ]);
    expect(kinds(planned({ server: { backboneKey: "BBKEY2\n" } }))).toEqual([
      "write-file backbone.key",
      "reload-link 2",
    ]);
    expect(kinds(planned({ links: { upsert: [], remove: [2] } }))).toEqual(["remove-file backbone-2.conf"]);
  });

  it("routes are touched only by route changes, the server device or a host connected here", () => {
    const here = new Map([["web-1", {}]]);
    const host = (commonName: string) => ({ commonName, address: "10.100.100.30", subnets: [], clientConfig: "x\n" });
    expect(deltaTouchesRoutes({ ...base(), routes: { upsert: [], remove: ["10.1.0.0/16"] } }, here)).toBe(true);
    expect(deltaTouchesRoutes({ ...base(), hosts: { upsert: [host("other")], remove: [] } }, here)).toBe(false);
    expect(deltaTouchesRoutes({ ...base(), hosts: { upsert: [host("web-1")], remove: [] } }, here)).toBe(true);
    expect(deltaTouchesRoutes({ ...base(), hosts: { upsert: [], remove: ["web-1"] } }, here)).toBe(true);
    expect(deltaTouchesRoutes({ ...base(), server: { crl: "x" } }, here)).toBe(false);
  });
});

function base(): DesiredStateDelta {
  return { type: "desired-state-delta", switchId: "sw-a", baseRevision: 7, revision: 8 };
}
