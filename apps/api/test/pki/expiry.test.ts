import { describe, expect, it } from "vitest";
import { expiringWithin } from "../../src/pki/index.ts";

const now = new Date("2026-06-01T00:00:00Z");
const inDays = (days: number) => new Date(now.getTime() + days * 86_400_000);

describe("expiringWithin", () => {
  const records = [
    { name: "later", notAfter: inDays(90) },
    { name: "soon", notAfter: inDays(10) },
    { name: "expired", notAfter: inDays(-3) },
    { name: "edge", notAfter: inDays(30) },
    { name: "revoked", notAfter: inDays(5), revokedAt: inDays(-1) },
    { name: "not-revoked", notAfter: inDays(20), revokedAt: null },
  ];

  it("lists certificates expiring within N days, already expired first, revoked ones left out", () => {
    expect(expiringWithin(records, 30, now).map((r) => r.name)).toEqual(["expired", "soon", "not-revoked", "edge"]);
  });

  it("with 0 days lists only what has already expired", () => {
    expect(expiringWithin(records, 0, now).map((r) => r.name)).toEqual(["expired"]);
  });

  it("refuses a negative window", () => {
    expect(() => expiringWithin(records, -1, now)).toThrow("days: must be a number of days, 0 or more");
  });
});
