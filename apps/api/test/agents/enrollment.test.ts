import { afterAll, beforeAll, expect, it } from "vitest";
import type { Database } from "../../src/db/database.ts";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { type ApiClient, apiClient } from "../support/api-client.ts";
import { enrollmentToken, networkWithSwitches } from "../support/live-api.ts";
import { openTestAppWithDatabase, seedToken } from "../support/test-app.ts";
import { type DatabaseKind, describeEachDatabase } from "../support/test-database.ts";

describeEachDatabase("agent enrollment", (kind: DatabaseKind) => {
  let app: TypedApp;
  let db: Database;
  let api: ApiClient;
  let anonymous: ApiClient;
  let switchId: string;

  beforeAll(async () => {
    ({ app, db } = await openTestAppWithDatabase(kind));
    api = apiClient(app);
    anonymous = apiClient(app, null);
    switchId = (await networkWithSwitches(api, 1)).switches[0] as string;
  });
  afterAll(() => app.close());

  it("issues a one-hour token that enrolls once, and audits both steps with the agent as actor of the second", async () => {
    const asked = Date.now();
    const created = await api.post(`/api/switches/${switchId}/enrollment`, {});
    const answered = Date.now();
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^sbe_[A-Za-z0-9_-]{43}$/);
    // An hour from when the API made it, which was between asking and the answer (same clock).
    const HOUR = 3_600_000;
    expect(Date.parse(created.body.expiresAt)).toBeGreaterThanOrEqual(asked + HOUR);
    expect(Date.parse(created.body.expiresAt)).toBeLessThanOrEqual(answered + HOUR);
    const stored = await db.prisma.agentEnrollment.findFirstOrThrow({ where: { switchId } });
    expect(stored.tokenHash).not.toContain(created.body.token.slice(4));

    const enrolled = await anonymous.post("/api/agent/enroll", { token: created.body.token });
    expect(enrolled.status).toBe(200);
    expect(enrolled.body).toMatchObject({ switchId, credential: expect.stringMatching(/^sba_/) });
    expect(enrolled.body.baseDir).toMatch(/^\/var\/lib\/switchboard-agent\/[0-9a-z]{5}$/);

    const again = await anonymous.post("/api/agent/enroll", { token: created.body.token });
    expect(again.status).toBe(401);

    const audit = await db.prisma.auditEvent.findMany({ where: { targetId: switchId }, orderBy: { id: "asc" } });
    expect(audit.map((a) => [a.action, a.actorType])).toEqual(
      expect.arrayContaining([
        ["agent.enrollment.create", "token"],
        ["agent.enroll", "agent"],
      ]),
    );
    expect((await api.get(`/api/switches/${switchId}/status`)).body).toMatchObject({ enrolled: true, online: false });
  });

  it("refuses an expired token and one replaced by a newer token", async () => {
    const old = await enrollmentToken(api, switchId);
    const expired = await enrollmentToken(api, switchId);
    expect((await anonymous.post("/api/agent/enroll", { token: old })).status).toBe(401);
    await db.prisma.agentEnrollment.updateMany({ where: { switchId, usedAt: null }, data: { expiresAt: new Date() } });
    const response = await anonymous.post("/api/agent/enroll", { token: expired });
    expect(response.status).toBe(401);
    expect(response.body.message).toMatch(/unknown, already used or expired/);
  });

  it("refuses a malformed token with 400 and only lets admins create tokens or revoke credentials", async () => {
    expect((await anonymous.post("/api/agent/enroll", { token: "sbe_short" })).status).toBe(400);
    const operator = apiClient(app, await seedToken(db, "operator"));
    expect((await operator.post(`/api/switches/${switchId}/enrollment`, {})).status).toBe(403);
    expect((await operator.delete(`/api/switches/${switchId}/agent-credential`)).status).toBe(403);
    expect((await api.post("/api/switches/00000000-0000-4000-8000-000000000000/enrollment", {})).status).toBe(404);
  });

  it("answers status and routes for a switch whose agent never connected", async () => {
    const { switches } = await networkWithSwitches(api, 2);
    const [a, b] = switches as [string, string];
    expect((await api.get(`/api/switches/${a}/status`)).body).toMatchObject({
      online: false,
      agentVersion: null,
      revisionApplied: null,
      lastSeenAt: null,
      enrolled: false,
    });
    const other = (await api.get(`/api/switches/${b}`)).body;
    const routes = (await api.get(`/api/switches/${a}/routes`)).body;
    expect(routes).toMatchObject({ switchId: a, applied: null, failed: [], reportedAt: null });
    expect(routes.desired).toEqual([
      { destination: `${other.dataAddress}/32`, via: other.backboneAddress, dev: expect.stringMatching(/^sbb-/) },
    ]);
    expect((await api.get("/api/sessions")).body).toEqual([]);
    expect((await api.get("/api/switches/00000000-0000-4000-8000-000000000000/routes")).status).toBe(404);
  });

  it("re-enrolling revokes the earlier credential; revoking leaves none in force", async () => {
    await anonymous.post("/api/agent/enroll", { token: await enrollmentToken(api, switchId) });
    expect(await db.prisma.agentCredential.count({ where: { switchId, revokedAt: null } })).toBe(1);
    expect(await db.prisma.agentCredential.count({ where: { switchId } })).toBeGreaterThanOrEqual(2);

    expect((await api.delete(`/api/switches/${switchId}/agent-credential`)).status).toBe(204);
    expect(await db.prisma.agentCredential.count({ where: { switchId, revokedAt: null } })).toBe(0);
    expect((await api.delete(`/api/switches/${switchId}/agent-credential`)).status).toBe(409);
    const last = await db.prisma.auditEvent.findFirstOrThrow({ orderBy: { id: "desc" } });
    expect(last).toMatchObject({ action: "agent.credential.revoke", targetId: switchId, actorType: "token" });
    expect((await api.get(`/api/switches/${switchId}/status`)).body.enrolled).toBe(false);
  });
});
