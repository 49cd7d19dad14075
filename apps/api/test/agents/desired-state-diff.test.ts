import { type DesiredState, diffDesired, isEmptyDelta } from "@switchboard/shared";
import { describe, expect, it } from "vitest";
import { desiredState } from "../../src/features/agents/state/desired-state.ts";

const server = {
  serverConfig: "mode server\n",
  caCert: "CA\n",
  serverCert: "CERT\n",
  serverKey: "KEY\n",
  crl: "CRL 1\n",
  tlsCryptKey: "TC\n",
  backboneTlsCryptKey: "BTC\n",
  backboneCert: "BB\n",
  backboneKey: "BBKEY\n",
};
const parts = { serverDevice: "sbs-aaaaa", server, links: [{ peerOffset: 2, config: "dev sbb-aaaaa-2\n" }] };
const web = { commonName: "web-1", address: "10.0.0.10", subnets: [], clientConfig: "ifconfig-push 10.0.0.10\n" };
const db = { commonName: "db-1", address: "10.0.0.11", subnets: [], clientConfig: "ifconfig-push 10.0.0.11\n" };
const toB = { destination: "10.0.0.2/32", via: "10.1.0.2", dev: "sbb-aaaaa-2" };

function base(): DesiredState {
  return desiredState("sw-a", 4, parts, [web, db], [toB]);
}

describe("desired state deltas", () => {
  it("builds a snapshot whose route count matches its routes", () => {
    expect(base()).toMatchObject({ type: "desired-state", revision: 4, routeCount: 1, hosts: [web, db] });
  });

  it("carries only what changed: one server file, one host upserted, one removed, a route withdrawn", () => {
    const next = desiredState(
      "sw-a",
      5,
      { ...parts, server: { ...server, crl: "CRL 2\n" } },
      [{ ...web, clientConfig: "ifconfig-push 10.0.0.10\npush route\n" }, { ...db }],
      [],
    );
    expect(diffDesired(base(), next)).toEqual({
      type: "desired-state-delta",
      switchId: "sw-a",
      baseRevision: 4,
      revision: 5,
      server: { crl: "CRL 2\n" },
      hosts: { upsert: [next.hosts[0]], remove: [] },
      routes: { upsert: [], remove: ["10.0.0.2/32"] },
    });
    const gone = desiredState("sw-a", 6, parts, [web], [toB]);
    expect(diffDesired(base(), gone).hosts).toEqual({ upsert: [], remove: ["db-1"] });
  });

  it("is empty when nothing changed, even when the parts are new objects with the same content", () => {
    const same = desiredState(
      "sw-a",
      5,
      { ...parts, server: { ...server }, links: [...parts.links] },
      [{ ...web }, { ...db }],
      [{ ...toB }],
    );
    const delta = diffDesired(base(), same);
    expect(isEmptyDelta(delta)).toBe(true);
    expect(delta).toMatchObject({ baseRevision: 4, revision: 5 });
  });

  it("upserts a changed link and removes a link to a peer that is gone", () => {
    const next = desiredState("sw-a", 5, { ...parts, links: [{ peerOffset: 3, config: "dev sbb-aaaaa-3\n" }] }, [], []);
    expect(diffDesired(base(), next).links).toEqual({
      upsert: [{ peerOffset: 3, config: "dev sbb-aaaaa-3\n" }],
      remove: [2],
    });
  });
});
