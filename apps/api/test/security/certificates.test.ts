import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startTestAgent, type TestAgent } from "@switchboard/testkit/agent/test-agent";
import { seedNetwork } from "@switchboard/testkit/network-fixture";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config.ts";
import type { Database } from "../../src/db/database.ts";
import { certificateAuthority } from "../../src/features/pki/certificate-authority.ts";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { createCsr } from "../../src/pki/index.ts";
import { generateKey } from "../../src/pki/keys.ts";
import { type ApiClient, apiClient } from "../support/api-client.ts";
import { enrollSwitch, type LiveApi, startLiveApi } from "../support/live-api.ts";
import { openTestAppWithDatabase, seedToken } from "../support/test-app.ts";
import { type DatabaseKind, describeEachDatabase } from "../support/test-database.ts";
import { patiently } from "../support/waits.ts";

/**
 * Attacks on certificates (issue 13): an operator replacing or revoking what a switch runs, a
 * renewal that hands a switch a certificate without a key the API could deliver, a revoked or
 * disabled host getting back in by downloading its profile, and certificates that outlive
 * everyone who should lose access.
 */

type Cert = { id: string; kind: string; serial: string; revokedAt: string | null; pem: string; keyHeld: boolean };

/** A PEM CSR for `commonName` with a key of its own, as a holder that keeps its key would send. */
async function csrFor(commonName: string): Promise<string> {
  const { keyPem } = await generateKey("ec-p256");
  return createCsr({ commonName, keyPem });
}

describeEachDatabase("certificates hold against a lesser role and a revoked or disabled host", (kind: DatabaseKind) => {
  let app: TypedApp;
  let db: Database;
  let admin: ApiClient;
  let operator: ApiClient;

  beforeAll(async () => {
    ({ app, db } = await openTestAppWithDatabase(kind));
    admin = apiClient(app);
    operator = apiClient(app, await seedToken(db, "operator"));
  }, 180_000);
  afterAll(() => app.close());

  /** A fresh network with one switch and the switch's certificates in force. */
  async function switchWithCertificates() {
    const seeded = await seedNetwork(async (path, body) => (await admin.post(path, body)).body, { switches: ["sw"] });
    const switchId = seeded.switchIds[0] as string;
    const inForce = (await admin.get(`/api/certificates?switchId=${switchId}&state=active`)).body.items as Cert[];
    const byKind = (k: string) => inForce.find((c) => c.kind === k) as Cert;
    return { networkId: seeded.networkId, switchId, server: byKind("server"), backbone: byKind("backbone") };
  }

  const certificate = async (id: string) => (await admin.get(`/api/certificates/${id}`)).body as Cert;
  const hostCertificates = async (hostId: string) =>
    (await admin.get(`/api/certificates?hostId=${hostId}`)).body.items as Cert[];

  it("refuses an operator who revokes or renews a switch's server or backbone certificate (403), leaving both in force", async () => {
    const { switchId, server, backbone } = await switchWithCertificates();
    for (const cert of [server, backbone]) {
      const revoked = await operator.post(`/api/certificates/${cert.id}/revoke`, { reason: "keyCompromise" });
      expect(revoked.status, revoked.text).toBe(403);
      expect(revoked.body.message).toBe(
        `role operator may not revoke a ${cert.kind} certificate: a switch's certificates need admin`,
      );
      const renewed = await operator.post(`/api/certificates/${cert.id}/renew`, {});
      expect(renewed.status, renewed.text).toBe(403);
      expect(renewed.body.message).toContain(`may not renew a ${cert.kind} certificate`);
      expect((await certificate(cert.id)).revokedAt, `${cert.kind} still in force`).toBeNull();
    }
    const reissue = await operator.post(`/api/switches/${switchId}/certificates/reissue`, {});
    expect(reissue.status).toBe(403);
  });

  it("still lets an operator revoke and renew a host's certificate", async () => {
    const { networkId } = await switchWithCertificates();
    const host = (await operator.post("/api/hosts", { networkId, commonName: "laptop" })).body;
    const issued = (await operator.post(`/api/hosts/${host.id}/certificate`, {})).body as Cert;
    const renewed = await operator.post(`/api/certificates/${issued.id}/renew`, {});
    expect(renewed.status, renewed.text).toBe(201);
    const revoked = await operator.post(`/api/certificates/${renewed.body.id}/revoke`, { reason: "keyCompromise" });
    expect(revoked.status, revoked.text).toBe(200);
  });

  it("refuses an admin's renewal of a switch certificate with a CSR (400 naming body.csr); without one the switch gets a new key", async () => {
    const { server, backbone } = await switchWithCertificates();
    for (const cert of [server, backbone]) {
      const row = await db.prisma.certificate.findUniqueOrThrow({ where: { id: cert.id } });
      const withCsr = await admin.post(`/api/certificates/${cert.id}/renew`, { csr: await csrFor(row.commonName) });
      expect(withCsr.status, withCsr.text).toBe(400);
      expect(withCsr.body.message).toMatch(new RegExp(`^body\\.csr is not accepted for a ${cert.kind} certificate`));
      expect((await certificate(cert.id)).revokedAt, "nothing replaced").toBeNull();

      const renewed = await admin.post(`/api/certificates/${cert.id}/renew`, {});
      expect(renewed.status, renewed.text).toBe(201);
      expect(renewed.body).toMatchObject({ kind: cert.kind, keyHeld: true, revokedAt: null });
    }
  });

  it("does not issue a certificate when a revoked host's profile is downloaded (409 naming why) until one is issued on purpose", async () => {
    const { networkId } = await switchWithCertificates();
    const host = (await admin.post("/api/hosts", { networkId, commonName: "stolen-laptop" })).body;
    expect((await operator.get(`/api/hosts/${host.id}/profile`)).status, "first download issues").toBe(200);
    const [first] = await hostCertificates(host.id);
    expect((await operator.post(`/api/certificates/${first?.id}/revoke`, { reason: "keyCompromise" })).status).toBe(
      200,
    );

    const download = await operator.get(`/api/hosts/${host.id}/profile`);
    expect(download.status, download.text).toBe(409);
    expect(download.body.message).toContain(
      `host stolen-laptop's certificate ${first?.serial} was revoked (keyCompromise)`,
    );
    expect(download.body.message).toContain(`POST /api/hosts/${host.id}/certificate`);
    const after = await hostCertificates(host.id);
    expect(
      after.map((c) => c.id),
      "no new certificate",
    ).toEqual([first?.id]);
    expect(after.every((c) => c.revokedAt !== null)).toBe(true);
    expect(
      await db.prisma.auditEvent.count({ where: { action: "host.profile.download", targetId: host.id } }),
      "only the first download",
    ).toBe(1);

    // The explicit way back: its own route and audit row, then the profile carries the new certificate.
    const issued = await operator.post(`/api/hosts/${host.id}/certificate`, {});
    expect(issued.status, issued.text).toBe(201);
    expect(
      await db.prisma.auditEvent.findFirst({ where: { action: "certificate.issue", targetId: host.id } }),
    ).toMatchObject({ summary: expect.objectContaining({ serial: issued.body.serial }) });
    const again = await operator.get(`/api/hosts/${host.id}/profile`);
    expect(again.status, again.text).toBe(200);
    expect(again.text).toContain(issued.body.pem.trim());
  });

  it("gives a disabled host no profile (409 naming why) and issues it nothing", async () => {
    const { networkId } = await switchWithCertificates();
    const fresh = (await admin.post("/api/hosts", { networkId, commonName: "parked", enabled: false })).body;
    const refused = await operator.get(`/api/hosts/${fresh.id}/profile`);
    expect(refused.status, refused.text).toBe(409);
    expect(refused.body.message).toBe("host parked is disabled: it gets no profile until it is enabled again");
    expect(await hostCertificates(fresh.id)).toEqual([]);

    const known = (await admin.post("/api/hosts", { networkId, commonName: "was-fine" })).body;
    expect((await operator.get(`/api/hosts/${known.id}/profile`)).status).toBe(200);
    expect((await admin.patch(`/api/hosts/${known.id}`, { enabled: false })).status).toBe(200);
    const later = await operator.get(`/api/hosts/${known.id}/profile`);
    expect(later.status, later.text).toBe(409);
    expect(later.body.message).toContain("is disabled");
  });

  it("refuses a validity over the cap (400 naming body.validityDays and the cap), on issue and renew", async () => {
    const { networkId, server } = await switchWithCertificates();
    const host = (await admin.post("/api/hosts", { networkId, commonName: "long-lived" })).body;
    const cap = "body.validityDays must be at most 825 days (the server's cap, CERT_MAX_VALIDITY_DAYS)";
    for (const validityDays of [826, 3650]) {
      const issued = await operator.post(`/api/hosts/${host.id}/certificate`, { validityDays });
      expect(issued.status, issued.text).toBe(400);
      expect(issued.body.message).toBe(cap);
    }
    expect(await hostCertificates(host.id), "nothing issued").toEqual([]);
    const within = await operator.post(`/api/hosts/${host.id}/certificate`, { validityDays: 825 });
    expect(within.status, within.text).toBe(201);
    const renewed = await operator.post(`/api/certificates/${within.body.id}/renew`, { validityDays: 1000 });
    expect(renewed.status).toBe(400);
    expect(renewed.body.message).toBe(cap);
    // The cap is not an operator's alone: an admin renewing a switch certificate meets it too.
    const switchRenewal = await admin.post(`/api/certificates/${server.id}/renew`, { validityDays: 3650 });
    expect(switchRenewal.status).toBe(400);
    expect(switchRenewal.body.message).toBe(cap);
  });
});

describe("the validity cap is a setting", () => {
  it("reads CERT_MAX_VALIDITY_DAYS and refuses a default validity above it", () => {
    expect(loadConfig({}).certMaxValidityDays).toBe(825);
    expect(loadConfig({ CERT_MAX_VALIDITY_DAYS: "90", CERT_VALIDITY_DAYS: "30" }).certMaxValidityDays).toBe(90);
    expect(() => loadConfig({ CERT_MAX_VALIDITY_DAYS: "90" })).toThrow(
      "CERT_VALIDITY_DAYS must not exceed CERT_MAX_VALIDITY_DAYS (825 > 90)",
    );
  });
});

describe("a switch whose certificates were revoked or renewed with a CSR [pglite]", () => {
  let live: LiveApi;
  let agent: TestAgent;
  let networkId: string;
  let switchId: string;

  const status = async () => (await live.api.get(`/api/switches/${switchId}/status`)).body;
  const file = (name: string) => readFileSync(join(agent.baseDir, name), "utf8");
  const inForce = async (kind: "server" | "backbone") =>
    live.db.prisma.certificate.findFirstOrThrow({ where: { switchId, kind, revokedAt: null } });
  /**
   * Waits until the switch has applied the network's current revision. No OpenVPN runs under the
   * test agent, so after new server files the reload it asks for is reported as not done.
   */
  const caughtUp = (allowedError: string | null = null) =>
    vi.waitFor(async () => {
      const revision = (await live.api.get(`/api/networks/${networkId}`)).body.revision;
      const now = await status();
      expect(now.revisionApplied, "the agent applied the network's revision").toBe(revision);
      expect([null, allowedError], "no error but the expected one").toContain(now.lastError);
    }, patiently);

  beforeAll(async () => {
    live = await startLiveApi("pglite", { pollMs: 500 });
    const seeded = await seedNetwork(async (path, body) => (await live.api.post(path, body)).body, {
      switches: ["a", "b"],
    });
    networkId = seeded.networkId;
    switchId = seeded.switchIds[0] as string;
    agent = await startTestAgent({ api: live.url, credential: await enrollSwitch(live, switchId), switchId });
    await caughtUp();
  }, 180_000);
  afterAll(async () => {
    await agent?.destroy();
    await live?.close();
  });

  it("refuses a renewal with a CSR, so the switch keeps getting its desired state", async () => {
    const server = await inForce("server");
    const renewal = await live.api.post(`/api/certificates/${server.id}/renew`, {
      csr: await csrFor(server.commonName),
    });
    expect(renewal.status, renewal.text).toBe(400);
    // A change after the attempt still reaches the switch: it was not left without a key to send.
    const host = await live.api.post("/api/hosts", { networkId, commonName: "after-csr" });
    expect(host.status).toBe(201);
    await expect
      .poll(() => safeRead(join(agent.baseDir, "ccd/after-csr")), patiently)
      .toContain(`ifconfig-push ${host.body.address}`);
    await caughtUp();
    expect(file("server.crt")).toBe(server.pem);
  });

  it("leaves a revoked switch without a desired state, and an admin's re-issue brings it back with new keys", async () => {
    const before = { server: await inForce("server"), backbone: await inForce("backbone") };
    const revoked = await live.api.post(`/api/certificates/${before.server.id}/revoke`, { reason: "keyCompromise" });
    expect(revoked.status, revoked.text).toBe(200);
    // What the review found: nothing to send the switch, and no way back but deleting it.
    await vi.waitFor(async () => {
      expect((await status()).lastError).toContain(`switch ${switchId} has no server certificate in force`);
    }, patiently);

    const reissued = await live.api.post(`/api/switches/${switchId}/certificates/reissue`, {});
    expect(reissued.status, reissued.text).toBe(201);
    expect(reissued.body.revokedSerials).toEqual([before.backbone.serial]);
    const server = await inForce("server");
    const backbone = await inForce("backbone");
    expect(reissued.body.issued.map((c: Cert) => [c.kind, c.id])).toEqual([
      ["server", server.id],
      ["backbone", backbone.id],
    ]);
    expect(server.serial).not.toBe(before.server.serial);
    expect(backbone.serial).not.toBe(before.backbone.serial);
    expect(await live.db.prisma.certificate.findUniqueOrThrow({ where: { id: before.backbone.id } })).toMatchObject({
      revocationReason: "keyCompromise",
    });

    await caughtUp("reload: server not reloaded: management interface not connected");
    const authority = certificateAuthority(live.pki);
    expect(file("server.crt")).toBe(server.pem);
    expect(file("server.key")).toBe(authority.privateKeyOf(server));
    expect(file("backbone.crt")).toBe(backbone.pem);
    expect(file("backbone.key")).toBe(authority.privateKeyOf(backbone));
    expect(file("server.key")).not.toBe(authority.privateKeyOf(before.server));
    expect(file("crl.pem")).toBe((await live.api.get(`/api/networks/${networkId}/crl`)).text);
    expect(
      await live.db.prisma.auditEvent.findFirst({
        where: { action: "switch.certificates.reissue", targetId: switchId },
      }),
    ).toMatchObject({
      actorType: "token",
      summary: expect.objectContaining({
        reason: "keyCompromise",
        revokedSerials: [before.backbone.serial],
        serials: { server: server.serial, backbone: backbone.serial },
      }),
    });
  });
});

function safeRead(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
