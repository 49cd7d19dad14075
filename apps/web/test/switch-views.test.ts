import { describe, expect, it } from "vitest";
import { layoutNodes, pairs } from "../src/features/overview/topology-layout.ts";
import { diffRoutes } from "../src/features/switches/route-diff.ts";

describe("routes desired vs applied", () => {
  const route = (destination: string, via: string) => ({ destination, via, dev: "sbb0" });

  it("marks each destination applied, missing, not desired or different, in address order", () => {
    const rows = diffRoutes(
      [route("10.0.0.10/32", "10.9.0.2"), route("10.0.0.9/32", "10.9.0.3"), route("10.0.0.30/32", "10.9.0.2")],
      [route("10.0.0.10/32", "10.9.0.2"), route("10.0.0.30/32", "10.9.0.4"), route("10.0.0.40/32", "10.9.0.2")],
    );
    expect(rows.map((r) => [r.destination, r.state])).toEqual([
      ["10.0.0.9/32", "missing"],
      ["10.0.0.10/32", "applied"],
      ["10.0.0.30/32", "different"],
      ["10.0.0.40/32", "extra"],
    ]);
  });

  it("shows every desired route as not applied before the agent's first report", () => {
    expect(diffRoutes([route("10.0.0.9/32", "10.9.0.3")], null).map((r) => r.state)).toEqual(["missing"]);
  });
});

describe("topology drawing", () => {
  it("draws one link per pair of switches", () => {
    expect(pairs(3)).toEqual([
      [0, 1],
      [0, 2],
      [1, 2],
    ]);
    expect(pairs(5)).toHaveLength(10);
  });

  it("keeps every switch inside the drawing", () => {
    for (const count of [1, 2, 3, 7]) {
      for (const point of layoutNodes(count, 560, 320, 80)) {
        expect(point.x).toBeGreaterThanOrEqual(80);
        expect(point.x).toBeLessThanOrEqual(480);
        expect(point.y).toBeGreaterThanOrEqual(0);
        expect(point.y).toBeLessThanOrEqual(320);
      }
    }
  });
});
