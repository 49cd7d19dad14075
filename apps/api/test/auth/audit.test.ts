import { readFileSync } from "node:fs";
import { itNeeding } from "@switchboard/testkit/needs";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Database } from "../../src/db/database.ts";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { type ApiClient, apiClient, networkBody } from "../support/api-client.ts";
import { opensslCsr, scratchDir } from "../support/openssl.ts";
import { openTestAppWithDatabase } from "../support/test-app.ts";
import { type DatabaseKind, describeEachDatabase } from "../support/test-database.ts";

interface Step {
  route: string;
  action: string;
  call: () => Promise<{ status: number }>;
}

describeEachDatabase("audit log", (kind: DatabaseKind) => {
  let app: TypedApp;
  let db: Database;
  let api: ApiClient;
  const files = scratchDir("sb-audit-");
  beforeAll(async () => {
    ({ app, db } = await openTestAppWithDatabase(kind));
    api = apiClient(app);
  });
  afterAll(async () => {
    await app.close();
    files.cleanup();
  });

  const auditCount = () => db.prisma.auditEvent.count();
  const lastAudit = () => db.prisma.auditEvent.findFirstOrThrow({ orderBy: { id: "desc" } });

  it("writes one audit row for every mutating route, with actor, target, request id and source", async () => {
    const ids: Record<string, string> = {};
    const steps: Step[] = [
      {
        route: "POST /api/networks",
        action: "network.create",
        call: async () => {
          const r = await api.post("/api/networks", networkBody({ dataSubnet: "10.77.0.0/24" }));
          ids.network = r.body.id;
          return r;
        },
      },
      {
        route: "PATCH /api/networks/:id",
        action: "network.update",
        call: () => api.patch(`/api/networks/${ids.network}`, { port: 1195 }),
      },
      {
        route: "POST /api/switches",
        action: "switch.create",
        call: async () => {
          const r = await api.post("/api/switches", { networkId: ids.network, name: "a", endpointHost: "a.example" });
          ids.switch = r.body.id;
          return r;
        },
      },
      {
        route: "PATCH /api/switches/:id",
        action: "switch.update",
        call: () => api.patch(`/api/switches/${ids.switch}`, { enabled: false }),
      },
      {
        route: "POST /api/switches/:id/certificates/reissue",
        action: "switch.certificates.reissue",
        call: () => api.post(`/api/switches/${ids.switch}/certificates/reissue`, {}),
      },
      {
        route: "POST /api/hosts",
        action: "host.create",
        call: async () => {
          const r = await api.post("/api/hosts", { networkId: ids.network, commonName: "h1" });
          ids.host = r.body.id;
          return r;
        },
      },
      {
        route: "PATCH /api/hosts/:id",
        action: "host.update",
        call: () => api.patch(`/api/hosts/${ids.host}`, { tags: ["x"] }),
      },
      {
        // With no session to end it still says who cleared what (the live case: security/session-claims.test.ts).
        route: "POST /api/hosts/:id/clear-session",
        action: "host.clear-session",
        call: () => api.post(`/api/hosts/${ids.host}/clear-session`, {}),
      },
      {
        route: "POST /api/hosts/import",
        action: "host.import",
        call: () => api.post("/api/hosts/import", { networkId: ids.network, hosts: [{ commonName: "h2" }] }),
      },
      {
        route: "POST /api/hosts/:id/certificate",
        action: "certificate.issue",
        call: async () => {
          const r = await api.post(`/api/hosts/${ids.host}/certificate`, {});
          ids.cert = (r as { body: { id: string } }).body.id;
          return r;
        },
      },
      {
        route: "POST /api/certificates/:id/renew",
        action: "certificate.renew",
        call: async () => {
          const r = await api.post(`/api/certificates/${ids.cert}/renew`, {});
          ids.cert = (r as { body: { id: string } }).body.id;
          return r;
        },
      },
      {
        route: "POST /api/certificates/:id/revoke",
        action: "certificate.revoke",
        call: () => api.post(`/api/certificates/${ids.cert}/revoke`, { reason: "keyCompromise" }),
      },
      {
        route: "POST /api/networks/:id/tls-crypt/rotate",
        action: "network.tls-crypt.rotate",
        call: () => api.post(`/api/networks/${ids.network}/tls-crypt/rotate`, {}),
      },
      {
        route: "POST /api/users",
        action: "user.create",
        call: async () => {
          const r = await api.post("/api/users", {
            username: "alice",
            password: "a long enough password",
            role: "viewer",
          });
          ids.user = r.body.id;
          return r;
        },
      },
      {
        route: "PATCH /api/users/:id",
        action: "user.update",
        call: () => api.patch(`/api/users/${ids.user}`, { role: "auditor" }),
      },
      {
        route: "DELETE /api/tokens/:id",
        action: "token.revoke",
        call: async () => {
          // Made straight in the database: only a signed-in user creates tokens (sessions.test.ts).
          const token = await db.prisma.apiToken.create({
            data: { name: "t", role: "viewer", tokenHash: "x".repeat(64) },
          });
          return api.delete(`/api/tokens/${token.id}`);
        },
      },
      { route: "DELETE /api/users/:id", action: "user.delete", call: () => api.delete(`/api/users/${ids.user}`) },
      { route: "DELETE /api/hosts/:id", action: "host.delete", call: () => api.delete(`/api/hosts/${ids.host}`) },
      {
        route: "DELETE /api/switches/:id",
        action: "switch.delete",
        call: () => api.delete(`/api/switches/${ids.switch}`),
      },
      {
        route: "DELETE /api/networks/:id",
        action: "network.delete",
        call: () => api.delete(`/api/networks/${ids.network}`),
      },
    ];
    for (const step of steps) {
      const before = await auditCount();
      const response = await step.call();
      expect(response.status, step.route).toBeLessThan(300);
      expect(await auditCount(), step.route).toBe(before + 1);
      expect(await lastAudit(), step.route).toMatchObject({
        action: step.action,
        actorType: "token",
        actorName: "token:test-admin",
        requestId: expect.any(String),
        sourceAddress: "127.0.0.1",
      });
    }

    // Routes covered elsewhere in this file or by their own flows (sessions, setup, downloads).
    const coveredElsewhere = new Set([
      "POST /api/setup",
      "POST /api/session",
      // A token cannot create tokens; a signed-in user does: sessions.test.ts, security/api-tokens.test.ts.
      "POST /api/tokens",
      "DELETE /api/session",
      "POST /api/session/password",
      "POST /api/networks/:id/pki/import",
      // Agent enrollment and credentials: apps/api/test/agents/enrollment.test.ts (the agent is the actor).
      "POST /api/switches/:id/enrollment",
      "POST /api/agent/enroll",
      "DELETE /api/switches/:id/agent-credential",
      // Needs a live session on a connected agent: apps/api/test/agents/sessions-routes.test.ts.
      "POST /api/hosts/:id/kill-session",
    ]);
    const mutating = app.accessRules
      .filter((r) => r.url.startsWith("/api/") && ["POST", "PATCH", "DELETE", "PUT"].includes(r.method))
      .map((r) => `${r.method} ${r.url}`);
    const untested = mutating.filter((route) => !coveredElsewhere.has(route) && !steps.some((s) => s.route === route));
    expect(untested).toEqual([]);
  });

  it("rolls the audit row back with a change that fails", async () => {
    const net = (await api.post("/api/networks", networkBody())).body;
    await api.post("/api/hosts", { networkId: net.id, commonName: "taken" });
    const before = await auditCount();
    const clash = await api.post("/api/hosts", { networkId: net.id, commonName: "taken" });
    expect(clash.status).toBe(409);
    const badImport = await api.post("/api/hosts/import", {
      networkId: net.id,
      hosts: [{ commonName: "fine" }, { commonName: "taken" }],
    });
    expect(badImport.status).toBe(400);
    expect(await auditCount()).toBe(before);
    expect(
      (await api.get(`/api/hosts?networkId=${net.id}`)).body.items.map((h: { commonName: string }) => h.commonName),
    ).toEqual(["taken"]);
  });

  itNeeding(["openssl"], "audits every profile download and CSR signing", async () => {
    const net = (await api.post("/api/networks", networkBody())).body;
    const host = (await api.post("/api/hosts", { networkId: net.id, commonName: "csr-host" })).body;
    const noSwitch = await api.get(`/api/hosts/${host.id}/profile`);
    expect(noSwitch.status).toBe(409);
    expect(noSwitch.body.message).toContain("at least one switch must be enabled");
    await api.post("/api/switches", { networkId: net.id, name: "a", endpointHost: "a.example" });
    const { csrPath } = opensslCsr(files, "csr-host", "/CN=csr-host");
    await api.post(`/api/hosts/${host.id}/certificate`, { csr: readFileSync(csrPath, "utf8") });
    expect(await lastAudit()).toMatchObject({
      action: "certificate.issue",
      summary: expect.objectContaining({ csr: true }),
    });
    const profile = await api.get(`/api/hosts/${host.id}/profile`);
    expect(profile.status, profile.text).toBe(200);
    expect(profile.text).not.toContain("<key>");
    expect(await lastAudit()).toMatchObject({
      action: "host.profile.download",
      targetId: host.id,
      summary: expect.objectContaining({ includesKey: false }),
    });
  });

  it("is append-only, filterable and paginated, and only admins and auditors read it", async () => {
    await expect(db.prisma.auditEvent.deleteMany({})).rejects.toThrow(/append-only/);
    await expect(db.prisma.auditEvent.updateMany({ data: { action: "forged" } })).rejects.toThrow(/append-only/);
    const first = await api.get("/api/audit?limit=3");
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(3);
    const second = await api.get(`/api/audit?limit=3&cursor=${first.body.nextCursor}`);
    expect(Number(second.body.items[0].id)).toBeLessThan(Number(first.body.items[2].id));
    const creates = await api.get("/api/audit?action=network.create&limit=500");
    expect(creates.body.items.length).toBeGreaterThan(0);
    expect(creates.body.items.every((e: { action: string }) => e.action === "network.create")).toBe(true);
  });
});
