import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { type ApiClient, apiClient, networkBody } from "../support/api-client.ts";
import { openTestApp } from "../support/test-app.ts";

/**
 * The 5xx a campaign of hostile requests found (issue 13): text PostgreSQL cannot store (NUL,
 * unpaired surrogates), forged cursors, and a network name too long for its CA's common name.
 * Each must be a 400 naming the field, or work.
 */
const forged = (parts: unknown) => Buffer.from(JSON.stringify(parts)).toString("base64url");
const LONE_HIGH = "\uD800";
const LONE_LOW = "x\uDC00y";

describe("hostile text and forged cursors get a 400 naming the field, never a 5xx", () => {
  let app: TypedApp;
  let api: ApiClient;
  let anonymous: ApiClient;

  beforeAll(async () => {
    app = await openTestApp("pglite");
    api = apiClient(app);
    anonymous = apiClient(app, null);
  });
  afterAll(() => app.close());

  async function expect400(response: Promise<{ status: number; body: { message?: string } }>, field: string) {
    const answer = await response;
    expect(answer.status, JSON.stringify(answer.body)).toBe(400);
    expect(answer.body.message).toContain(field);
  }

  it("refuses a NUL in the sign-in user name", async () => {
    await expect400(
      anonymous.post("/api/session", { username: "ad\u0000min", password: "x".repeat(12) }),
      "body.username",
    );
  });

  it("refuses a NUL in the host search", async () => {
    await expect400(api.get("/api/hosts?search=we%00b"), "querystring.search");
  });

  it("refuses a NUL in the audit filters", async () => {
    await expect400(api.get("/api/audit?actorName=%00"), "querystring.actorName");
    await expect400(api.get("/api/audit?action=host.%00created"), "querystring.action");
  });

  it("refuses a lone high surrogate in a network's description", async () => {
    await expect400(api.post("/api/networks", networkBody({ description: `office ${LONE_HIGH}` })), "body.description");
  });

  it("refuses a lone low surrogate in an API token's name", async () => {
    await expect400(api.post("/api/tokens", { name: LONE_LOW, role: "viewer" }), "body.name");
  });

  it("keeps well-formed text outside the BMP (a pair of surrogates)", async () => {
    const created = await api.post("/api/networks", networkBody({ description: "rack 🛰 north" }));
    expect(created.status).toBe(201);
    expect(created.body.description).toBe("rack 🛰 north");
  });

  it("creates a network whose name is the longest allowed, with a CA name X.509 accepts", async () => {
    const name = `n${"x".repeat(63)}`;
    const created = await api.post("/api/networks", networkBody({ name }));
    expect(created.status, created.text).toBe(201);
    const pki = await api.get(`/api/networks/${created.body.id}/pki`);
    expect(pki.status, pki.text).toBe(200);
    const caName: string = pki.body.ca?.commonName ?? pki.body.commonName;
    expect(caName.length).toBeLessThanOrEqual(64);
    expect(caName).toMatch(/^Switchboard nx+~ CA$/);
  });

  it("refuses forged cursors on the certificate list", async () => {
    await expect400(api.get(`/api/certificates?cursor=${forged(["not a date", "x"])}`), "querystring.cursor");
    await expect400(
      api.get(`/api/certificates?cursor=${forged(["2026-01-01T00:00:00.000Z", "not-a-uuid"])}`),
      "querystring.cursor",
    );
  });

  it("refuses forged cursors on the audit log", async () => {
    await expect400(api.get(`/api/audit?cursor=${forged(["x", "12ab"])}`), "querystring.cursor");
    await expect400(api.get(`/api/audit?cursor=${forged(["x", "99999999999999999999999"])}`), "querystring.cursor");
  });

  it("refuses a forged cursor on the host list", async () => {
    await expect400(api.get(`/api/hosts?cursor=${forged(["web", "'; drop table hosts; --"])}`), "querystring.cursor");
  });
});
