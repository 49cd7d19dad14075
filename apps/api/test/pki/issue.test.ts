import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { itNeeding } from "@switchboard/testkit/needs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CreatedCa, createCa, issueCertificate, PkiError, readCertificate } from "../../src/pki/index.ts";
import { randomSerialHex } from "../../src/pki/serial.ts";

let dir: string;
let ca: CreatedCa;
let caFile: string;

function openssl(...args: string[]) {
  const result = spawnSync("openssl", args, { encoding: "utf8" });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

function save(name: string, pem: string): string {
  const path = join(dir, name);
  writeFileSync(path, pem);
  return path;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pki-issue-"));
  ca = await createCa({ commonName: "Test network CA", validityDays: 3650 });
  caFile = save("ca.pem", ca.certPem);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const issue = (commonName: string, kind: "server" | "client" | "backbone", extra: object = {}) =>
  issueCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName, kind, validityDays: 30, ...extra });

describe("createCa", () => {
  itNeeding(["openssl"], "creates a self-signed RSA 3072 root with critical CA:TRUE and keyCertSign, cRLSign", () => {
    const text = openssl("x509", "-in", caFile, "-noout", "-text").output;
    expect(text).toMatch(/Public-Key: \(3072 bit\)/);
    expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(text).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(text).toMatch(/Subject Key Identifier/);
    expect(text).toMatch(/Subject: CN = Test network CA/);
    expect(openssl("verify", "-CAfile", caFile, caFile).output).toContain(": OK");
  });

  it("reports the serial and validity that are inside the certificate", () => {
    const info = readCertificate(ca.certPem);
    expect(info.serialHex).toBe(ca.serialHex);
    expect(info.notBefore.getTime()).toBe(ca.notBefore.getTime());
    expect(info.notAfter.getTime()).toBe(ca.notAfter.getTime());
    expect(info.isCa).toBe(true);
  });

  it("refuses a CA name with control characters or DN separators", async () => {
    await expect(createCa({ commonName: "a\nb", validityDays: 10 })).rejects.toThrow(/^commonName: .*CA name/);
    await expect(createCa({ commonName: "x,O=evil", validityDays: 10 })).rejects.toThrow(PkiError);
  });
});

describe("issueCertificate", () => {
  itNeeding(["openssl"], "issues server certificates that pass sslserver and fail sslclient", async () => {
    const cert = save("server.pem", (await issue("switch-1", "server")).certPem);
    expect(openssl("verify", "-CAfile", caFile, "-purpose", "sslserver", cert).output).toContain(": OK");
    expect(openssl("verify", "-CAfile", caFile, "-purpose", "sslclient", cert).ok).toBe(false);
  });

  itNeeding(["openssl"], "issues client certificates that pass sslclient and fail sslserver", async () => {
    const cert = save("client.pem", (await issue("host_1.lab", "client")).certPem);
    expect(openssl("verify", "-CAfile", caFile, "-purpose", "sslclient", cert).output).toContain(": OK");
    const asServer = openssl("verify", "-CAfile", caFile, "-purpose", "sslserver", cert);
    expect(asServer.ok).toBe(false);
    expect(asServer.output).toMatch(/unsuitable certificate purpose/);
  });

  itNeeding(["openssl"], "issues backbone certificates that pass both sslserver and sslclient", async () => {
    const cert = save("backbone.pem", (await issue("link-a-b", "backbone")).certPem);
    expect(openssl("verify", "-CAfile", caFile, "-purpose", "sslserver", cert).output).toContain(": OK");
    expect(openssl("verify", "-CAfile", caFile, "-purpose", "sslclient", cert).output).toContain(": OK");
  });

  itNeeding(["openssl"], "sets the extensions OpenVPN's remote-cert-tls checks, and only a CN subject", async () => {
    const issued = await issue("switch-2", "server");
    const text = openssl("x509", "-in", save("server2.pem", issued.certPem), "-noout", "-text").output;
    expect(text).toMatch(/Subject: CN = switch-2\n/);
    expect(text).toMatch(/Issuer: CN = Test network CA\n/);
    expect(text).toMatch(/Basic Constraints: \n\s+CA:FALSE/);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
    expect(text).toMatch(/Extended Key Usage: \n\s+TLS Web Server Authentication\n/);
    expect(text).toMatch(/Public-Key: \(2048 bit\)/);
    const caKeyId = /Subject Key Identifier: \n\s+([0-9A-F:]+)/.exec(
      openssl("x509", "-in", caFile, "-noout", "-text").output,
    )?.[1];
    expect(caKeyId).toBeDefined();
    expect(text).toContain(`Authority Key Identifier: \n                ${caKeyId}`);
    expect(text).not.toContain(`Subject Key Identifier: \n                ${caKeyId}`);
  });

  itNeeding(["openssl"], "gives client certificates digitalSignature and clientAuth only", async () => {
    const text = openssl("x509", "-in", save("c.pem", (await issue("h2", "client")).certPem), "-noout", "-text").output;
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature\n/);
    expect(text).toMatch(/Extended Key Usage: \n\s+TLS Web Client Authentication\n/);
  });

  itNeeding(["openssl"], "issues for EC keys with keyAgreement instead of keyEncipherment", async () => {
    const issued = await issue("ec-switch", "server", { keyType: "ec-p256" });
    expect(issued.keyPem).toContain("BEGIN PRIVATE KEY");
    const cert = save("ec.pem", issued.certPem);
    expect(openssl("verify", "-CAfile", caFile, "-purpose", "sslserver", cert).output).toContain(": OK");
    expect(openssl("x509", "-in", cert, "-noout", "-text").output).toMatch(/Digital Signature, Key Agreement/);
  });

  itNeeding(["openssl"], "returns a private key that belongs to the certificate", async () => {
    const issued = await issue("h3", "client");
    const fromKey = openssl("pkey", "-in", save("h3.key", issued.keyPem), "-pubout").output;
    const fromCert = openssl("x509", "-in", save("h3.pem", issued.certPem), "-noout", "-pubkey").output;
    expect(fromKey).toBe(fromCert);
  });

  itNeeding(["openssl"], "signs with an EC CA key using ECDSA", async () => {
    const ecCa = await createCa({ commonName: "EC CA", validityDays: 365, keyType: "ec-p384" });
    const issued = await issueCertificate({
      caCertPem: ecCa.certPem,
      caKeyPem: ecCa.keyPem,
      commonName: "h4",
      kind: "client",
      validityDays: 30,
    });
    const caPath = save("ec-ca.pem", ecCa.certPem);
    const cert = save("h4.pem", issued.certPem);
    expect(openssl("verify", "-CAfile", caPath, "-purpose", "sslclient", cert).output).toContain(": OK");
    expect(openssl("x509", "-in", cert, "-noout", "-text").output).toMatch(/Signature Algorithm: ecdsa-with-SHA384/);
  });

  it("returns the serial and dates the certificate holds, and the kind its EKU implies", async () => {
    const issued = await issue("h5", "backbone");
    const info = readCertificate(issued.certPem);
    expect(info).toMatchObject({ commonName: "h5", serialHex: issued.serialHex, kind: "backbone", isCa: false });
    expect(info.notBefore.getTime()).toBe(issued.notBefore.getTime());
    expect(info.notAfter.getTime()).toBe(issued.notAfter.getTime());
    expect(issued.notAfter.getTime() - issued.notBefore.getTime()).toBe(30 * 86_400_000 + 5 * 60_000);
  });

  it("never lets a certificate outlive its CA", async () => {
    const shortCa = await createCa({ commonName: "Short CA", validityDays: 10, keyType: "ec-p256" });
    const issued = await issueCertificate({
      caCertPem: shortCa.certPem,
      caKeyPem: shortCa.keyPem,
      commonName: "h6",
      kind: "client",
      validityDays: 365,
      keyType: "ec-p256",
    });
    expect(issued.notAfter.getTime()).toBe(shortCa.notAfter.getTime());
  });

  it("uses random positive 16-byte serials that do not repeat", async () => {
    const serials = new Set(Array.from({ length: 10_000 }, () => randomSerialHex()));
    expect(serials.size).toBe(10_000);
    for (const serial of [...serials].slice(0, 100)) {
      expect(serial).toMatch(/^[4-7][0-9A-F]{31}$/);
    }
    const a = await issue("h7", "client", { keyType: "ec-p256" });
    const b = await issue("h7", "client", { keyType: "ec-p256" });
    expect(a.serialHex).not.toBe(b.serialHex);
  });

  it("refuses a hostile common name, naming the field and the rule", async () => {
    await expect(issue("a/b", "client")).rejects.toThrow(
      /^commonName: "a\/b" is not allowed: a common name is 1 to 64 characters, each a letter, digit/,
    );
    await expect(issue("x".repeat(65), "client")).rejects.toThrow(/^commonName: /);
  });

  it("refuses validity outside 1..3650 days and unknown kinds", async () => {
    await expect(issue("h8", "client", { validityDays: 0 })).rejects.toThrow(/^validityDays: 0 is not allowed/);
    await expect(issue("h8", "client", { validityDays: 1.5 })).rejects.toThrow(/^validityDays: /);
    await expect(issue("h8", "router" as "client")).rejects.toThrow(/^kind: must be one of server, client, backbone/);
  });

  it("refuses a CA key that does not belong to the CA certificate", async () => {
    const other = await createCa({ commonName: "Other", validityDays: 10, keyType: "ec-p256" });
    await expect(
      issueCertificate({
        caCertPem: ca.certPem,
        caKeyPem: other.keyPem,
        commonName: "h9",
        kind: "client",
        validityDays: 1,
      }),
    ).rejects.toThrow(/^caKeyPem: does not belong to the CA certificate/);
  });

  it("refuses to sign with a leaf certificate as CA", async () => {
    const leaf = await issue("h10", "client", { keyType: "ec-p256" });
    await expect(
      issueCertificate({
        caCertPem: leaf.certPem,
        caKeyPem: leaf.keyPem,
        commonName: "h11",
        kind: "client",
        validityDays: 1,
      }),
    ).rejects.toThrow(/^caCertPem: is not a CA certificate/);
  });
});
