import { Value } from "@sinclair/typebox/value";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyDelta,
  type DesiredState,
  DesiredStateDeltaSchema,
  diffDesired,
  isEmptyDelta,
  mergeDeltas,
} from "../../src/index.ts";

// Small pools, so random states share names, destinations and offsets and the diff sees
// upserts, re-points and removals rather than two disjoint sets.
const names = ["web-1", "web-2", "db-1", "db-2", "cache-1", "edge-1"];
const addresses = ["10.0.0.10", "10.0.0.11", "10.0.0.12"];
const destinations = ["10.0.0.10/32", "10.0.0.11/32", "10.0.0.12/32", "10.9.0.0/24", "10.8.0.0/16"];

const host = fc.record({
  commonName: fc.constantFrom(...names),
  address: fc.constantFrom(...addresses),
  subnets: fc.subarray(["10.9.0.0/24", "10.8.0.0/16"]),
  clientConfig: fc.option(fc.constantFrom("ifconfig-push a\n", "ifconfig-push b\n"), { nil: null }),
});
const route = fc.record({
  destination: fc.constantFrom(...destinations),
  via: fc.constantFrom("10.1.0.2", "10.1.0.3"),
  dev: fc.constantFrom("sbb-aaaaa-2", "sbb-aaaaa-3"),
});
const link = fc.record({ peerOffset: fc.integer({ min: 1, max: 5 }), config: fc.constantFrom("dev a\n", "dev b\n") });
const text = fc.constantFrom("one\n", "two\n");

function state(revision: number) {
  return fc
    .record({
      serverDevice: fc.constantFrom("sbs-aaaaa", "sbs-bbbbb"),
      server: fc.record({
        serverConfig: text,
        caCert: text,
        serverCert: text,
        serverKey: text,
        crl: text,
        tlsCryptKey: text,
        backboneTlsCryptKey: text,
        backboneCert: text,
        backboneKey: text,
      }),
      links: fc.uniqueArray(link, { selector: (l) => l.peerOffset, maxLength: 5 }),
      hosts: fc.uniqueArray(host, { selector: (h) => h.commonName, maxLength: names.length }),
      routes: fc.uniqueArray(route, { selector: (r) => r.destination, maxLength: destinations.length }),
    })
    .map(
      (parts): DesiredState => ({
        type: "desired-state",
        switchId: "sw-a",
        revision,
        ...parts,
        links: [...parts.links].sort((a, b) => a.peerOffset - b.peerOffset),
        routeCount: parts.routes.length,
      }),
    );
}

/** The same state with its keyed lists in one order: order carries no meaning. */
function canonical(s: DesiredState) {
  const by =
    <T>(key: (item: T) => string | number) =>
    (a: T, b: T) =>
      key(a) < key(b) ? -1 : 1;
  return {
    ...s,
    hosts: [...s.hosts].sort(by((h) => h.commonName)),
    routes: [...s.routes].sort(by((r) => r.destination)),
    links: [...s.links].sort(by((l) => l.peerOffset)),
  };
}

function applied(base: DesiredState, delta: ReturnType<typeof diffDesired>): DesiredState {
  const result = applyDelta(base, delta);
  if (!result.ok) throw new Error(`delta refused: ${result.reason}`);
  return result.state;
}

describe("desired-state deltas (property)", () => {
  it("apply(diff(a, b), a) equals b, and the delta is a valid protocol message", () => {
    fc.assert(
      fc.property(state(4), state(5), (a, b) => {
        const delta = diffDesired(a, b);
        expect(Value.Check(DesiredStateDeltaSchema, delta)).toBe(true);
        expect(canonical(applied(a, delta))).toEqual(canonical(b));
      }),
      { numRuns: 500 },
    );
  });

  it("a state diffed with itself is an empty delta", () => {
    fc.assert(
      fc.property(state(4), (a) => {
        expect(isEmptyDelta(diffDesired(a, { ...a, revision: 5 }))).toBe(true);
      }),
    );
  });

  it("merge(diff(a, b), diff(b, c)) applied to a equals c", () => {
    fc.assert(
      fc.property(state(4), state(5), state(6), (a, b, c) => {
        const merged = mergeDeltas(diffDesired(a, b), diffDesired(b, c));
        expect(merged).toBeDefined();
        if (merged === undefined) return;
        expect(Value.Check(DesiredStateDeltaSchema, merged)).toBe(true);
        expect(canonical(applied(a, merged))).toEqual(canonical(c));
      }),
      { numRuns: 500 },
    );
  });

  it("deltas that do not chain are not merged", () => {
    fc.assert(
      fc.property(state(4), state(5), state(7), (a, b, c) => {
        const first = diffDesired(a, b);
        const skipping = { ...diffDesired(b, c), baseRevision: 6 };
        expect(mergeDeltas(first, skipping)).toBeUndefined();
      }),
    );
  });

  it("parts a delta does not name stay the same objects (an agent can tell a routes-only delta)", () => {
    fc.assert(
      fc.property(state(4), fc.array(route, { maxLength: 3 }), (a, upsert) => {
        const next = applied(a, {
          type: "desired-state-delta",
          switchId: "sw-a",
          baseRevision: 4,
          revision: 5,
          routes: { upsert, remove: [] },
        });
        expect(next.hosts).toBe(a.hosts);
        expect(next.links).toBe(a.links);
        expect(next.server).toBe(a.server);
      }),
    );
  });
});
