import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EASYRSA, missing } from "@switchboard/testkit/env";
import { itNeeding } from "@switchboard/testkit/needs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseIndex } from "../../src/pki/easy-rsa-import.ts";
import {
  buildCrl,
  createCsr,
  type ImportedPki,
  importEasyRsaPki,
  issueCertificate,
  PkiError,
  signCsr,
} from "../../src/pki/index.ts";

let dir: string;
let pki: string;
let imported: ImportedPki;

function easyrsa(args: string[], extraEnv: Record<string, string> = {}) {
  const result = spawnSync(EASYRSA, args, {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, EASYRSA_BATCH: "1", EASYRSA_PKI: pki, ...extraEnv },
  });
  if (result.status !== 0) throw new Error(`easyrsa ${args.join(" ")} failed:\n${result.stdout}${result.stderr}`);
}

function openssl(...args: string[]) {
  const result = spawnSync("openssl", args, { encoding: "utf8" });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

/** index.txt lines by CN, split into their six fields. */
function indexByName(): Map<string, string[]> {
  const lines = readFileSync(join(pki, "index.txt"), "utf8").trim().split("\n");
  return new Map(lines.map((line) => line.split("\t")).map((fields) => [fields[5]?.replace("/CN=", "") ?? "", fields]));
}

const record = (name: string) => {
  const found = imported.certificates.find((c) => c.commonName === name);
  if (!found) throw new Error(`no imported certificate for ${name}`);
  return found;
};

describe("importEasyRsaPki", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pki-easyrsa-"));
    pki = join(dir, "pki");
    if (missing("openssl", "easy-rsa")) return; // its tests are skipped, and say why
    easyrsa(["init-pki"]);
    easyrsa(["build-ca", "nopass"], { EASYRSA_REQ_CN: "Legacy VPN CA" });
    easyrsa(["build-client-full", "c1", "nopass"]);
    easyrsa(["build-client-full", "c2", "nopass"]);
    easyrsa(["build-client-full", "c3", "nopass"]);
    easyrsa(["build-server-full", "s1", "nopass"]);
    easyrsa(["revoke", "c2", "keyCompromise"]);
    easyrsa(["revoke", "c3"]);
    easyrsa(["gen-crl"]);
    imported = await importEasyRsaPki(pki);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  itNeeding(["openssl", "easy-rsa"], "imports the CA and a key that belongs to it", () => {
    expect(imported.ca.certPem).toBe(readFileSync(join(pki, "ca.crt"), "utf8"));
    expect(imported.ca.commonName).toBe("Legacy VPN CA");
    const keyFile = join(dir, "imported-ca.key");
    writeFileSync(keyFile, imported.ca.keyPem);
    const fromKey = openssl("pkey", "-in", keyFile, "-pubout").output;
    expect(fromKey).toBe(openssl("x509", "-in", join(pki, "ca.crt"), "-noout", "-pubkey").output);
  });

  itNeeding(["openssl", "easy-rsa"], "keeps every serial exactly as index.txt and the certificates have it", () => {
    const index = indexByName();
    expect(imported.certificates.map((c) => c.commonName).sort()).toEqual(["c1", "c2", "c3", "s1"]);
    for (const certificate of imported.certificates) {
      const serial = index.get(certificate.commonName)?.[3];
      expect(certificate.serialHex).toBe(serial);
      expect(certificate.certPem).toBeDefined();
      const file = join(dir, `${certificate.commonName}.pem`);
      writeFileSync(file, certificate.certPem as string);
      expect(openssl("x509", "-in", file, "-noout", "-serial").output.trim()).toBe(`serial=${serial}`);
    }
  });

  itNeeding(["openssl", "easy-rsa"], "keeps revocations with their dates and reasons", () => {
    const index = indexByName();
    const [c2Date, c2Reason] = (index.get("c2")?.[2] ?? "").split(",");
    expect(c2Reason).toBe("keyCompromise");
    expect(record("c2")).toMatchObject({ status: "revoked", reason: "keyCompromise" });
    const expected = c2Date?.replace(/^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/, "20$1-$2-$3T$4:$5:$6.000Z");
    expect(record("c2").revokedAt?.toISOString()).toBe(expected);
    expect(record("c3")).toMatchObject({ status: "revoked", reason: "unspecified" });
    expect(record("c1").status).toBe("valid");
    expect(record("c1").revokedAt).toBeUndefined();
    expect(imported.warnings).toEqual([]);
  });

  itNeeding(["openssl", "easy-rsa"], "guesses the kind from the extended key usage", () => {
    expect(record("c1").kind).toBe("client");
    expect(record("s1").kind).toBe("server");
  });

  itNeeding(
    ["openssl", "easy-rsa"],
    "brings the key easy-rsa generated for a valid certificate, not for revoked ones",
    () => {
      const c1 = record("c1");
      expect(c1.keyPem).toContain("BEGIN PRIVATE KEY");
      writeFileSync(join(dir, "c1.key"), c1.keyPem as string);
      writeFileSync(join(dir, "c1.crt"), c1.certPem as string);
      expect(openssl("pkey", "-in", join(dir, "c1.key"), "-pubout").output).toBe(
        openssl("x509", "-in", join(dir, "c1.crt"), "-noout", "-pubkey").output,
      );
      expect(record("c2").keyPem).toBeUndefined();
    },
  );

  itNeeding(["openssl", "easy-rsa"], "signs new certificates with the imported CA that openssl verifies", async () => {
    const ca = { caCertPem: imported.ca.certPem, caKeyPem: imported.ca.keyPem, validityDays: 30 };
    const server = await issueCertificate({ ...ca, commonName: "switch-new", kind: "server" });
    const csr = await createCsr({ commonName: "host-new", keyPem: record("c1").keyPem as string });
    const client = await signCsr({ ...ca, commonName: "host-new", kind: "client", csrPem: csr });
    writeFileSync(join(dir, "new-server.pem"), server.certPem);
    writeFileSync(join(dir, "new-client.pem"), client.certPem);
    const caFile = join(pki, "ca.crt");
    const verify = (purpose: string, file: string) =>
      openssl("verify", "-CAfile", caFile, "-purpose", purpose, join(dir, file)).output;
    expect(verify("sslserver", "new-server.pem")).toContain(": OK");
    expect(verify("sslclient", "new-client.pem")).toContain(": OK");
  });

  itNeeding(
    ["openssl", "easy-rsa"],
    "publishes the imported revocations in a CRL that refuses c2 and passes c1",
    async () => {
      const revoked = imported.certificates.flatMap((c) =>
        c.revokedAt && c.reason ? [{ serialHex: c.serialHex, revokedAt: c.revokedAt, reason: c.reason }] : [],
      );
      expect(revoked).toHaveLength(2);
      const crl = await buildCrl({
        caCertPem: imported.ca.certPem,
        caKeyPem: imported.ca.keyPem,
        revoked,
        crlNumber: 1,
        thisUpdate: new Date(),
        nextUpdate: new Date(Date.now() + 86_400_000),
      });
      const crlFile = join(dir, "switchboard-crl.pem");
      writeFileSync(crlFile, crl);
      const check = (name: string) =>
        openssl("verify", "-crl_check", "-CAfile", join(pki, "ca.crt"), "-CRLfile", crlFile, join(dir, `${name}.pem`));
      expect(check("c2").output).toMatch(/certificate revoked/);
      expect(check("c3").output).toMatch(/certificate revoked/);
      expect(check("c1").output).toContain(": OK");
      expect(openssl("crl", "-in", crlFile, "-text", "-noout").output).toContain(
        `Serial Number: ${record("c2").serialHex}`,
      );
    },
  );

  itNeeding(["openssl", "easy-rsa"], "refuses a passphrase-protected CA key with a clear message", async () => {
    const copy = join(dir, "encrypted");
    cpSync(pki, copy, { recursive: true });
    const keyFile = join(copy, "private", "ca.key");
    expect(
      openssl("pkey", "-in", join(pki, "private", "ca.key"), "-aes256", "-passout", "pass:secret", "-out", keyFile).ok,
    ).toBe(true);
    const attempt = importEasyRsaPki(copy);
    await expect(attempt).rejects.toThrow(PkiError);
    await expect(attempt).rejects.toThrow(/^private\/ca\.key: is protected by a passphrase; only unencrypted keys/);
  });

  itNeeding(["openssl", "easy-rsa"], "refuses a CA key that does not match ca.crt", async () => {
    const copy = join(dir, "mismatch");
    cpSync(pki, copy, { recursive: true });
    cpSync(join(pki, "private", "c1.key"), join(copy, "private", "ca.key"));
    await expect(importEasyRsaPki(copy)).rejects.toThrow("private/ca.key: does not belong to the CA certificate");
  });

  it("names the missing file when the folder is not a PKI", async () => {
    await expect(importEasyRsaPki(join(tmpdir(), "no-such-pki-here"))).rejects.toThrow(/^ca\.crt: not found in /);
  });
});

describe("parseIndex", () => {
  it("reads V, R and E lines with UTCTime and GeneralizedTime dates and OpenSSL's reason names", () => {
    const text = [
      "V\t290228102548Z\t\t0a1b\tunknown\t/CN=a",
      "R\t20510101000000Z\t261126102630Z,CACompromise\t00FF\tunknown\t/CN=b",
      "R\t290228102548Z\t261126102630Z,keyTime,20261120000000Z\t0100\tunknown\t/CN=c",
      "E\t200101000000Z\t\t02\tunknown\t/CN=d",
      "",
    ].join("\n");
    const entries = parseIndex(text);
    expect(entries.map((e) => [e.status, e.serialHex, e.commonName, e.reason])).toEqual([
      ["valid", "0A1B", "a", undefined],
      ["revoked", "FF", "b", "caCompromise"],
      ["revoked", "0100", "c", "keyCompromise"],
      ["expired", "02", "d", undefined],
    ]);
    expect(entries[1]?.expiresAt.toISOString()).toBe("2051-01-01T00:00:00.000Z");
    expect(entries[1]?.revokedAt?.toISOString()).toBe("2026-11-26T10:26:30.000Z");
  });

  it("keeps a certificate on hold refused, with a warning", () => {
    const warnings: string[] = [];
    const [entry] = parseIndex("R\t290228102548Z\t261126102630Z,certificateHold\t0A\tunknown\t/CN=a\n", warnings);
    expect(entry?.reason).toBe("unspecified");
    expect(warnings[0]).toMatch(/^index\.txt line 1: reason "certificateHold" is imported as a revocation/);
  });

  it("refuses malformed lines, naming the line", () => {
    expect(() => parseIndex("V\t290228102548Z\t0A\tunknown\t/CN=a")).toThrow(
      "index.txt line 1: must have 6 TAB-separated fields; found 5",
    );
    expect(() => parseIndex("X\t290228102548Z\t\t0A\tunknown\t/CN=a")).toThrow(/^index\.txt line 1: status must be/);
    expect(() => parseIndex("V\t2902281025Z\t\t0A\tunknown\t/CN=a")).toThrow(/^index\.txt line 1 expiry: /);
    expect(() => parseIndex("V\t290228102548Z\t\t0A\tunknown\t/CN=a\nV\t290228102548Z\t\t0a\tunknown\t/CN=b")).toThrow(
      "index.txt line 2: serial 0A appears twice",
    );
  });
});
