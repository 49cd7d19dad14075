import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLE_GRANTS, ROLES } from "../../src/auth/access.ts";
import type { Database } from "../../src/db/database.ts";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { openTestAppWithDatabase, seedToken } from "../support/test-app.ts";

/** A concrete URL for a route pattern: every :param becomes a random UUID. */
const concrete = (url: string) => url.replace(/:[A-Za-z]+/g, () => randomUUID());

describe("every route's access rule", () => {
  let app: TypedApp;
  let db: Database;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    ({ app, db } = await openTestAppWithDatabase("pglite"));
    for (const role of ROLES) tokens[role] = await seedToken(db, role);
  });
  afterAll(() => app.close());

  const apiRules = () =>
    app.accessRules.filter((r) => r.url.startsWith("/api/") && !r.url.startsWith("/api/docs") && r.method !== "HEAD");

  it("has a rule for each of the API's routes, and only login, setup, health and the agents' own are public", () => {
    expect(apiRules().length).toBeGreaterThan(30);
    const open = apiRules()
      .filter((r) => r.access === "public")
      .map((r) => `${r.method} ${r.url}`);
    // The agent routes authenticate themselves: the enrollment token in the body, the credential before the upgrade.
    expect(open.sort()).toEqual([
      "GET /api/agent/channel",
      "GET /api/setup",
      "POST /api/agent/enroll",
      "POST /api/session",
      "POST /api/setup",
    ]);
  });

  it("opens the console's live feed and the link states to every signed-in role (read), and to nobody else", () => {
    const rule = (url: string) => apiRules().find((r) => r.method === "GET" && r.url === url)?.access;
    expect(rule("/api/live")).toBe("read");
    expect(rule("/api/networks/:id/links")).toBe("read");
  });

  it("refuses a route registered without a rule", () => {
    expect(() => app.get("/api/forgotten", async () => "oops")).toThrow(/GET \/api\/forgotten has no access rule/);
  });

  it("refuses every non-public route without credentials (401)", async () => {
    const failures: string[] = [];
    for (const rule of apiRules().filter((r) => r.access !== "public")) {
      const response = await app.inject({
        method: rule.method as "GET",
        url: concrete(rule.url),
        payload: rule.method === "GET" || rule.method === "DELETE" ? undefined : {},
      });
      if (response.statusCode !== 401) failures.push(`${rule.method} ${rule.url}: ${response.statusCode}`);
    }
    expect(failures).toEqual([]);
  });

  it("refuses a bad, unknown or malformed bearer token (401)", async () => {
    for (const authorization of ["Bearer sbt_not-a-real-token-value-000000", "Basic YWRtaW46YWRtaW4=", "Bearer "]) {
      const response = await app.inject({ method: "GET", url: "/api/networks", headers: { authorization } });
      expect(response.statusCode).toBe(401);
    }
  });

  it.each(ROLES)("lets %s through exactly the routes its role grants (others 403)", async (role) => {
    const failures: string[] = [];
    for (const rule of apiRules().filter((r) => r.access !== "public")) {
      const response = await app.inject({
        method: rule.method as "GET",
        url: concrete(rule.url),
        headers: { authorization: `Bearer ${tokens[role]}` },
        payload: rule.method === "GET" || rule.method === "DELETE" ? undefined : {},
      });
      const allowed = ROLE_GRANTS[role].has(rule.access);
      const refusedByRole = response.statusCode === 403 && response.json().message.startsWith(`role ${role} may not`);
      if (allowed === refusedByRole || response.statusCode === 401)
        failures.push(`${rule.method} ${rule.url} (${rule.access}): ${response.statusCode}`);
    }
    expect(failures).toEqual([]);
  });
});
