import { readFileSync } from "node:fs";
import { itNeeding } from "@switchboard/testkit/needs";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Database } from "../../src/db/database.ts";
import { certificateAuthority } from "../../src/features/pki/certificate-authority.ts";
import { pkiService } from "../../src/features/pki/pki-service.ts";
import type { PkiSettings } from "../../src/features/pki/pki-settings.ts";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { unseal } from "../../src/pki/index.ts";
import { type ApiClient, apiClient, networkBody } from "../support/api-client.ts";
import { openssl, opensslCsr, scratchDir } from "../support/openssl.ts";
import { openTestAppWithDatabase } from "../support/test-app.ts";
import { type DatabaseKind, describeEachDatabase } from "../support/test-database.ts";

describeEachDatabase("certificates API", (kind: DatabaseKind) => {
  let app: TypedApp;
  let db: Database;
  let settings: PkiSettings;
  let api: ApiClient;
  const files = scratchDir("sb-certs-");
  let net: { id: string };
  let caPem: string;

  beforeAll(async () => {
    ({ app, db, pki: settings } = await openTestAppWithDatabase(kind));
    api = apiClient(app);
    net = (await api.post("/api/networks", networkBody({ dataSubnet: "10.90.0.0/24" }))).body;
    await api.post("/api/switches", {
      networkId: net.id,
      name: "a",
      endpointHost: "a.example",
      dataAddress: "10.90.0.1",
    });
    caPem = (await api.get(`/api/networks/${net.id}/pki`)).body.ca.pem;
    files.write("ca.pem", caPem);
  });
  afterAll(async () => {
    await app.close();
    files.cleanup();
  });

  /** openssl's verdict on a certificate, against the CA and optionally the network's current CRL. */
  async function verify(pem: string, purpose: "sslclient" | "sslserver", withCrl = false) {
    const cert = files.write(`cert-${Math.random()}.pem`, pem);
    const args = ["verify", "-CAfile", `${files.dir}/ca.pem`, "-purpose", purpose];
    if (withCrl) {
      files.write("crl.pem", (await api.get(`/api/networks/${net.id}/crl`)).text);
      args.push("-crl_check", "-CRLfile", `${files.dir}/crl.pem`);
    }
    return openssl([...args, cert]);
  }

  it("gives a new network a CA, a tls-crypt key and a first CRL", async () => {
    const pki = (await api.get(`/api/networks/${net.id}/pki`)).body;
    expect(pki).toMatchObject({
      ca: { kind: "ca", keyHeld: true, revokedAt: null },
      crl: { number: 1 },
      tlsCryptKey: { present: true },
    });
    const crl = await api.get(`/api/networks/${net.id}/crl`);
    expect(crl.text).toMatch(/^-----BEGIN X509 CRL-----/);
  });

  itNeeding(["openssl"], "issues a switch its server and backbone certificates, which openssl accepts", async () => {
    const certs = (await api.get(`/api/certificates?networkId=${net.id}&kind=server`)).body.items;
    expect(certs).toHaveLength(1);
    expect((await verify(certs[0].pem, "sslserver")).status).toBe(0);
    const backbone = (await api.get(`/api/certificates?networkId=${net.id}&kind=backbone`)).body.items[0];
    expect((await verify(backbone.pem, "sslserver")).status).toBe(0);
    expect((await verify(backbone.pem, "sslclient")).status).toBe(0);
  });

  itNeeding(
    ["openssl"],
    "downloads a profile with inline CA, client certificate, key and tls-crypt key, and audits it",
    async () => {
      const host = (await api.post("/api/hosts", { networkId: net.id, commonName: "web-1" })).body;
      const profile = await api.get(`/api/hosts/${host.id}/profile`);
      expect(profile.status).toBe(200);
      expect(profile.headers["content-disposition"]).toBe('attachment; filename="web-1.ovpn"');
      for (const block of ["<ca>", "<cert>", "<key>", "<tls-crypt>"]) expect(profile.text).toContain(block);
      expect(profile.text).toContain("remote a.example 1194");
      const cert = /<cert>\n([\s\S]*?)<\/cert>/.exec(profile.text)?.[1] ?? "";
      expect((await verify(cert, "sslclient")).status).toBe(0);
      expect((await verify(cert, "sslserver")).status).not.toBe(0);
      // A second download hands out the same certificate, not a new one.
      const again = await api.get(`/api/hosts/${host.id}/profile`);
      expect(/<cert>\n([\s\S]*?)<\/cert>/.exec(again.text)?.[1]).toBe(cert);
      const audits = await db.prisma.auditEvent.findMany({
        where: { action: "host.profile.download", targetId: host.id },
      });
      expect(audits).toHaveLength(2);
      expect(audits[0]?.requestId).toEqual(expect.any(String));
    },
  );

  it("puts the chosen switch first in a profile and refuses one that is not an enabled switch of the network", async () => {
    const b = (
      await api.post("/api/switches", {
        networkId: net.id,
        name: "b",
        endpointHost: "b.example",
        dataAddress: "10.90.0.254",
      })
    ).body;
    expect(b.id, JSON.stringify(b)).toBeDefined();
    const host = (await api.post("/api/hosts", { networkId: net.id, commonName: "prefers-b" })).body;
    const remotes = (text: string) => text.split("\n").filter((line) => line.startsWith("remote "));
    expect(remotes((await api.get(`/api/hosts/${host.id}/profile`)).text)).toEqual([
      "remote a.example 1194",
      "remote b.example 1194",
    ]);
    expect(remotes((await api.get(`/api/hosts/${host.id}/profile?firstSwitchId=${b.id}`)).text)).toEqual([
      "remote b.example 1194",
      "remote a.example 1194",
    ]);
    const unknown = await api.get(`/api/hosts/${host.id}/profile?firstSwitchId=${host.id}`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toContain("firstSwitchId");
    const malformed = await api.get(`/api/hosts/${host.id}/profile?firstSwitchId=..%2Fetc`);
    expect(malformed.status).toBe(400);
    expect((await api.delete(`/api/switches/${b.id}`)).status).toBe(204);
  });

  itNeeding(["openssl"], "signs a host's CSR so it keeps its key, superseding its previous certificate", async () => {
    const host = (await api.post("/api/hosts", { networkId: net.id, commonName: "db-1" })).body;
    const first = (await api.post(`/api/hosts/${host.id}/certificate`, {})).body;
    expect(first.keyHeld).toBe(true);
    const { csrPath } = opensslCsr(files, "db-1", "/CN=db-1");
    const signed = await api.post(`/api/hosts/${host.id}/certificate`, { csr: readFileSync(csrPath, "utf8") });
    expect(signed.status).toBe(201);
    expect(signed.body).toMatchObject({ kind: "client", commonName: "db-1", keyHeld: false, hostId: host.id });
    const previous = (await api.get(`/api/certificates/${first.id}`)).body;
    expect(previous).toMatchObject({ revocationReason: "superseded" });
    expect((await verify(first.pem, "sslclient", true)).out).toContain("certificate revoked");
    expect((await verify(signed.body.pem, "sslclient", true)).status).toBe(0);
  });

  itNeeding(["openssl"], "refuses a CSR whose subject does not match the host", async () => {
    const host = (await api.post("/api/hosts", { networkId: net.id, commonName: "app-1" })).body;
    for (const [name, subject] of [
      ["other", "/CN=app-2"],
      ["extra", "/O=Evil/CN=app-1"],
    ] as const) {
      const { csrPath } = opensslCsr(files, name, subject);
      const response = await api.post(`/api/hosts/${host.id}/certificate`, { csr: readFileSync(csrPath, "utf8") });
      expect(response.status).toBe(400);
      expect(response.body.message).toMatch(/^csr: /);
    }
    const garbage = await api.post(`/api/hosts/${host.id}/certificate`, {
      csr: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
    });
    expect(garbage.status).toBe(400);
  });

  itNeeding(["openssl"], "revokes a certificate into the CRL, after which openssl refuses it", async () => {
    const host = (await api.post("/api/hosts", { networkId: net.id, commonName: "laptop-7" })).body;
    const cert = (await api.post(`/api/hosts/${host.id}/certificate`, {})).body;
    const before = (await api.get(`/api/networks/${net.id}/pki`)).body.crl.number;
    const revoked = await api.post(`/api/certificates/${cert.id}/revoke`, { reason: "keyCompromise" });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ revocationReason: "keyCompromise", revokedAt: expect.any(String) });
    expect((await api.get(`/api/networks/${net.id}/pki`)).body.crl.number).toBe(before + 1);
    const crlText = openssl([
      "crl",
      "-text",
      "-noout",
      "-in",
      files.write("crl-now.pem", (await api.get(`/api/networks/${net.id}/crl`)).text),
    ]).out;
    expect(crlText).toContain(`Serial Number: ${cert.serial}`);
    expect(crlText).toContain("Key Compromise");
    expect((await verify(cert.pem, "sslclient", true)).out).toContain("certificate revoked");
    expect((await api.post(`/api/certificates/${cert.id}/revoke`, {})).status).toBe(409);
  });

  it("lists certificates expiring soon and renews one", async () => {
    const host = (await api.post("/api/hosts", { networkId: net.id, commonName: "short-lived" })).body;
    const cert = (await api.post(`/api/hosts/${host.id}/certificate`, { validityDays: 10 })).body;
    const soon = (await api.get(`/api/certificates?networkId=${net.id}&expiringWithinDays=30`)).body.items;
    expect(soon.map((c: { id: string }) => c.id)).toContain(cert.id);
    const notSoon = (await api.get(`/api/certificates?networkId=${net.id}&expiringWithinDays=5`)).body.items;
    expect(notSoon.map((c: { id: string }) => c.id)).not.toContain(cert.id);
    const renewed = await api.post(`/api/certificates/${cert.id}/renew`, {});
    expect(renewed.status).toBe(201);
    expect(new Date(renewed.body.notAfter).getTime()).toBeGreaterThan(new Date(cert.notAfter).getTime());
    expect((await api.get(`/api/certificates/${cert.id}`)).body.revocationReason).toBe("superseded");
    expect((await api.get(`/api/hosts/${host.id}`)).body.address).toBe(host.address);
  });

  it("keeps private keys sealed: nothing in the database reads as a key without the master key", async () => {
    const rows = await db.prisma.certificate.findMany({ where: { networkId: net.id, keySealed: { not: null } } });
    expect(rows.length).toBeGreaterThan(2);
    for (const row of rows) {
      const sealed = Buffer.from(row.keySealed as Uint8Array);
      expect(sealed.toString("latin1")).not.toContain("PRIVATE KEY");
      expect(() => unseal(sealed, Buffer.alloc(32, 7), `certificate-key:${row.networkId}:${row.serial}`)).toThrow();
    }
    const network = await db.prisma.network.findUniqueOrThrow({ where: { id: net.id } });
    expect(Buffer.from(network.tlsCryptKeySealed as Uint8Array).toString("latin1")).not.toContain("OpenVPN Static key");
    const listed = await api.get(`/api/certificates?networkId=${net.id}&limit=500`);
    expect(listed.text).not.toContain("PRIVATE KEY");
  });

  it("revokes a deleted host's certificate", async () => {
    const host = (await api.post("/api/hosts", { networkId: net.id, commonName: "retired" })).body;
    const cert = (await api.post(`/api/hosts/${host.id}/certificate`, {})).body;
    await api.delete(`/api/hosts/${host.id}`);
    expect((await api.get(`/api/certificates/${cert.id}`)).body.revocationReason).toBe("cessationOfOperation");
  });

  it("republishes a CRL once less than a third of its validity is left, and not before", async () => {
    const service = pkiService(db.prisma, certificateAuthority(settings));
    const before = (await api.get(`/api/networks/${net.id}/pki`)).body.crl;
    expect(await service.refreshDueCrls(new Date())).toBe(0);
    const later = new Date(new Date(before.nextUpdate).getTime() - 5 * 86_400_000);
    expect(await service.refreshDueCrls(later)).toBeGreaterThanOrEqual(1);
    const after = (await api.get(`/api/networks/${net.id}/pki`)).body.crl;
    expect(after.number).toBe(before.number + 1);
    expect(new Date(after.nextUpdate).getTime()).toBeGreaterThan(new Date(before.nextUpdate).getTime());
  });

  it("rotates the tls-crypt key", async () => {
    const host = (await api.post("/api/hosts", { networkId: net.id, commonName: "rotator" })).body;
    const block = (text: string) => /<tls-crypt>([\s\S]*?)<\/tls-crypt>/.exec(text)?.[1];
    const before = block((await api.get(`/api/hosts/${host.id}/profile`)).text);
    expect((await api.post(`/api/networks/${net.id}/tls-crypt/rotate`, {})).status).toBe(204);
    const after = block((await api.get(`/api/hosts/${host.id}/profile`)).text);
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
  });
});
