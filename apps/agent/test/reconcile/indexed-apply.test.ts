import { applyDelta, type DesiredState, type DesiredStateDelta, type Route } from "@switchboard/shared";
import { describe, expect, it } from "vitest";
import { IndexedApply } from "../../src/reconcile/indexed-apply.ts";
import { desiredState } from "../support/desired.ts";

/** The agent's indexed apply gives applyDelta's state (up to order) over a chain of random deltas. */
function random(seed: number) {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

const byKey = (state: DesiredState) => ({
  ...state,
  hosts: [...state.hosts].sort((a, b) => a.commonName.localeCompare(b.commonName)),
  routes: [...state.routes].sort((a, b) => a.destination.localeCompare(b.destination)),
});

describe("IndexedApply", () => {
  it("matches applyDelta over 300 random deltas, and a refused candidate leaves the index as it was", () => {
    const next = random(7);
    const pick = (n: number) => Math.floor(next() * n);
    const route = (i: number, via: number): Route => ({
      destination: `10.64.0.${i}/32`,
      via: `10.200.200.${via}`,
      dev: "sbb-aaaaa-2",
    });
    const host = (i: number, v: number) => ({
      commonName: `h-${i}`,
      address: `10.64.0.${i}`,
      subnets: [],
      clientConfig: v % 5 === 0 ? null : `v${v}\n`,
    });
    let reference = desiredState({
      revision: 1,
      hosts: Array.from({ length: 30 }, (_, i) => host(i, 1)),
      routes: Array.from({ length: 30 }, (_, i) => route(i, 2)),
      routeCount: 30,
    });
    let held = reference;
    const indexed = new IndexedApply();
    indexed.reset(held);
    for (let k = 0; k < 300; k++) {
      const names = (n: number) => Array.from({ length: pick(n) }, () => pick(40));
      const delta: DesiredStateDelta = {
        type: "desired-state-delta",
        switchId: "sw-a",
        baseRevision: reference.revision,
        revision: reference.revision + 1,
        ...(next() < 0.7
          ? { hosts: { upsert: names(4).map((i) => host(i, k)), remove: names(3).map((i) => `h-${i}`) } }
          : {}),
        ...(next() < 0.7
          ? { routes: { upsert: names(4).map((i) => route(i, k % 9)), remove: names(3).map((i) => `10.64.0.${i}/32`) } }
          : {}),
      };
      const expected = applyDelta(reference, delta);
      const { result, commit } = indexed.apply(held, delta);
      if (!expected.ok || !result.ok) throw new Error("delta refused");
      expect(byKey(result.state)).toEqual(byKey(expected.state));
      if (k % 7 === 3) continue; // refused by the agent: not committed, the next delta starts from the same state
      commit();
      held = result.state;
      reference = expected.state;
    }
  });

  it("refuses what applyDelta refuses", () => {
    const indexed = new IndexedApply();
    const state = desiredState();
    indexed.reset(state);
    const gap: DesiredStateDelta = { type: "desired-state-delta", switchId: "sw-a", baseRevision: 5, revision: 9 };
    expect(indexed.apply(state, gap).result).toEqual({ ok: false, reason: "revision-gap" });
    expect(indexed.apply(undefined, gap).result).toEqual({ ok: false, reason: "no-base" });
  });
});
