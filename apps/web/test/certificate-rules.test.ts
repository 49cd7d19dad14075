import { describe, expect, it } from "vitest";
import { can } from "../src/auth/roles.ts";
import { mayRenew, profileBlockedBecause, takesCsr } from "../src/features/certificates/certificate-rules.ts";

describe("certificate actions the console offers", () => {
  const inForce = { revokedAt: null };
  const asRole = (role: "admin" | "operator" | "viewer") => (grant: Parameters<typeof can>[1]) => can(role, grant);

  it("offers renewing a switch's server or backbone certificate to admins only", () => {
    for (const kind of ["server", "backbone"] as const) {
      expect(mayRenew({ ...inForce, kind }, asRole("admin")), kind).toBe(true);
      expect(mayRenew({ ...inForce, kind }, asRole("operator")), kind).toBe(false);
    }
    expect(mayRenew({ ...inForce, kind: "client" }, asRole("operator"))).toBe(true);
    expect(mayRenew({ ...inForce, kind: "client" }, asRole("viewer"))).toBe(false);
    expect(mayRenew({ ...inForce, kind: "ca" }, asRole("admin"))).toBe(false);
    expect(mayRenew({ revokedAt: "2026-01-01T00:00:00.000Z", kind: "client" }, asRole("admin"))).toBe(false);
  });

  it("asks for a CSR only for a host that keeps its own key, never for a switch", () => {
    expect(takesCsr({ kind: "client", keyHeld: false })).toBe(true);
    expect(takesCsr({ kind: "client", keyHeld: true })).toBe(false);
    expect(takesCsr({ kind: "server", keyHeld: false })).toBe(false);
    expect(takesCsr({ kind: "backbone", keyHeld: false })).toBe(false);
  });
});

describe("profile download", () => {
  const revoked = { revokedAt: "2026-01-01T00:00:00.000Z" };

  it("is blocked for a disabled host and for one whose certificates are all revoked, saying why", () => {
    expect(profileBlockedBecause({ enabled: false }, [])).toMatch(/^Disabled/);
    expect(profileBlockedBecause({ enabled: true }, [revoked])).toMatch(/revoked/);
    expect(profileBlockedBecause({ enabled: true }, [revoked, revoked])).toMatch(/revoked/);
  });

  it("is open for a host with a certificate in force, or with none yet (the first download issues it)", () => {
    expect(profileBlockedBecause({ enabled: true }, [revoked, { revokedAt: null }])).toBeUndefined();
    expect(profileBlockedBecause({ enabled: true }, [])).toBeUndefined();
    expect(profileBlockedBecause({ enabled: true }, undefined)).toBeUndefined();
  });
});
