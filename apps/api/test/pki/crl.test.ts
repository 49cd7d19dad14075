import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { itNeeding } from "@switchboard/testkit/needs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildCrl,
  type CreatedCa,
  type CrlOptions,
  createCa,
  type IssuedCertificate,
  issueCertificate,
} from "../../src/pki/index.ts";

let dir: string;
let ca: CreatedCa;
let revoked: IssuedCertificate;
let kept: IssuedCertificate;
let crlPath: string;
const thisUpdate = new Date(Date.now() - 60_000);
const nextUpdate = new Date(Date.now() + 7 * 86_400_000);

function openssl(...args: string[]) {
  const result = spawnSync("openssl", args, { encoding: "utf8" });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

function path(name: string, pem?: string): string {
  const file = join(dir, name);
  if (pem !== undefined) writeFileSync(file, pem);
  return file;
}

const crl = (overrides: Partial<CrlOptions> = {}) =>
  buildCrl({
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    revoked: [],
    crlNumber: 1,
    thisUpdate,
    nextUpdate,
    ...overrides,
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pki-crl-"));
  ca = await createCa({ commonName: "CRL test CA", validityDays: 365 });
  path("ca.pem", ca.certPem);
  const leaf = { caCertPem: ca.certPem, caKeyPem: ca.keyPem, kind: "client", validityDays: 30 } as const;
  revoked = await issueCertificate({ ...leaf, commonName: "lost-laptop" });
  kept = await issueCertificate({ ...leaf, commonName: "desk-pc" });
  path("revoked.pem", revoked.certPem);
  path("kept.pem", kept.certPem);
  crlPath = path(
    "crl.pem",
    await crl({
      revoked: [{ serialHex: revoked.serialHex, revokedAt: new Date("2026-01-02T03:04:05Z"), reason: "keyCompromise" }],
      crlNumber: 7,
    }),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("buildCrl", () => {
  itNeeding(["openssl"], "lists the revoked serial with its reason, date, CRL number and authority key id", () => {
    const text = openssl("crl", "-in", crlPath, "-text", "-noout").output;
    expect(text).toMatch(/Version 2 \(0x1\)/);
    expect(text).toMatch(/Issuer: CN = CRL test CA/);
    expect(text).toContain(`Serial Number: ${revoked.serialHex}`);
    expect(text).toMatch(/Revocation Date: Jan {2}2 03:04:05 2026 GMT/);
    expect(text).toMatch(/X509v3 CRL Reason Code: \n\s+Key Compromise/);
    expect(text).toMatch(/X509v3 CRL Number: \n\s+7/);
    expect(text).toMatch(/X509v3 Authority Key Identifier/);
    expect(text).not.toContain(kept.serialHex);
  });

  itNeeding(["openssl"], "is signed by the CA", () => {
    expect(openssl("crl", "-in", crlPath, "-CAfile", path("ca.pem"), "-noout").output).toMatch(/verify OK/);
  });

  itNeeding(["openssl"], "makes openssl verify -crl_check refuse the revoked certificate and pass the others", () => {
    const check = (cert: string) =>
      openssl("verify", "-crl_check", "-CAfile", path("ca.pem"), "-CRLfile", crlPath, "-purpose", "sslclient", cert);
    const refused = check(path("revoked.pem"));
    expect(refused.ok).toBe(false);
    expect(refused.output).toMatch(/certificate revoked/);
    expect(check(path("kept.pem")).output).toContain(": OK");
  });

  itNeeding(
    ["openssl"],
    "writes every reason, and leaves the reason out for unspecified as RFC 5280 asks",
    async () => {
      const reasons = [
        "unspecified",
        "caCompromise",
        "affiliationChanged",
        "superseded",
        "cessationOfOperation",
      ] as const;
      const entries = reasons.map((reason, i) => ({
        serialHex: `0${i + 1}`,
        revokedAt: new Date("2026-03-01T00:00:00Z"),
        reason,
      }));
      const text = openssl(
        "crl",
        "-in",
        path("reasons.pem", await crl({ revoked: entries })),
        "-text",
        "-noout",
      ).output;
      for (const label of ["CA Compromise", "Affiliation Changed", "Superseded", "Cessation Of Operation"]) {
        expect(text).toContain(label);
      }
      expect(text.match(/CRL Reason Code/g)).toHaveLength(4);
      expect(text).toContain("Serial Number: 01");
    },
  );

  itNeeding(["openssl"], "keeps serials whose top bit is set positive", async () => {
    const serialHex = "E0E239BB4279904E72AB4F4AC37E4DE1";
    const pem = await crl({ revoked: [{ serialHex, revokedAt: thisUpdate, reason: "superseded" }] });
    expect(openssl("crl", "-in", path("high.pem", pem), "-text", "-noout").output).toContain(
      `Serial Number: ${serialHex}`,
    );
  });

  itNeeding(["openssl"], "writes an empty CRL without a revoked list, which openssl accepts", async () => {
    const file = path("empty.pem", await crl({ crlNumber: 0n }));
    const text = openssl("crl", "-in", file, "-text", "-noout").output;
    expect(text).toMatch(/No Revoked Certificates/);
    expect(openssl("crl", "-in", file, "-CAfile", path("ca.pem"), "-noout").output).toMatch(/verify OK/);
  });

  itNeeding(["openssl"], "uses GeneralizedTime for dates from 2050", async () => {
    const far = await crl({ nextUpdate: new Date("2051-06-01T00:00:00Z") });
    expect(openssl("crl", "-in", path("far.pem", far), "-noout", "-nextupdate").output).toMatch(
      /Jun {2}1 00:00:00 2051 GMT/,
    );
  });

  it("refuses bad input, naming the field", async () => {
    await expect(crl({ nextUpdate: thisUpdate })).rejects.toThrow("nextUpdate: must be later than thisUpdate");
    await expect(crl({ crlNumber: -1 })).rejects.toThrow(/^crlNumber: must be a whole number/);
    const entry = { serialHex: "0A", revokedAt: thisUpdate, reason: "superseded" } as const;
    await expect(crl({ revoked: [entry, { ...entry, serialHex: "0a" }] })).rejects.toThrow(
      "revoked[1].serialHex: serial 0A is listed twice",
    );
    await expect(crl({ revoked: [{ ...entry, reason: "certificateHold" as "superseded" }] })).rejects.toThrow(
      /^revoked\[0\]\.reason: must be one of unspecified, keyCompromise/,
    );
    await expect(crl({ revoked: [{ ...entry, serialHex: "xyz" }] })).rejects.toThrow(/^revoked\[0\]\.serialHex: "xyz"/);
    await expect(crl({ revoked: [{ ...entry, revokedAt: new Date("nope") }] })).rejects.toThrow(
      "revoked[0].revokedAt: must be a valid date",
    );
  });
});
