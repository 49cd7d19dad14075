import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { itNeeding } from "@switchboard/testkit/needs";
import forge from "node-forge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CreatedCa, createCa, createCsr, PkiError, readCertificate, signCsr } from "../../src/pki/index.ts";

let dir: string;
let ca: CreatedCa;
const rsaKeyPem = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
  type: "pkcs8",
  format: "pem",
});
const rsa1024KeyPem = generateKeyPairSync("rsa", { modulusLength: 1024 })
  .privateKey.export({ type: "pkcs8", format: "pem" })
  .toString();

function openssl(...args: string[]) {
  const result = spawnSync("openssl", args, { encoding: "utf8" });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

/**
 * forge lets a test put anything into a subject (NUL, newlines, several RDNs), which neither
 * createCsr nor the openssl command line would produce.
 */
function forgeCsr(
  keyPem: string,
  attributes: { type: string; value: string }[],
  digest: forge.md.MessageDigest = forge.md.sha256.create(),
) {
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  const utf8 = forge.asn1.Type.UTF8 as unknown as forge.asn1.Class;
  csr.setSubject(attributes.map((attribute) => ({ ...attribute, valueTagClass: utf8 })));
  csr.sign(key, digest);
  return forge.pki.certificationRequestToPem(csr);
}

const CN = "2.5.4.3";

const sign = (csrPem: string, commonName: string, kind: "server" | "client" | "backbone" = "client") =>
  signCsr({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName, kind, validityDays: 30, csrPem });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pki-csr-"));
  ca = await createCa({ commonName: "CSR test CA", validityDays: 365 });
  writeFileSync(join(dir, "ca.pem"), ca.certPem);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("signCsr accepts", () => {
  itNeeding(["openssl"], "a request made by createCsr, and the host keeps its key", async () => {
    const csr = await createCsr({ commonName: "host-1", keyPem: rsaKeyPem.toString() });
    const issued = await sign(csr, "host-1");
    expect(issued).not.toHaveProperty("keyPem");
    writeFileSync(join(dir, "h1.pem"), issued.certPem);
    const verified = openssl("verify", "-CAfile", join(dir, "ca.pem"), "-purpose", "sslclient", join(dir, "h1.pem"));
    expect(verified.output).toContain(": OK");
  });

  itNeeding(["openssl"], "a request from openssl req, ignoring the extensions it asks for", async () => {
    const key = join(dir, "req.key");
    writeFileSync(key, rsaKeyPem);
    const request = join(dir, "req.csr");
    const made = openssl(
      "req",
      "-new",
      "-key",
      key,
      "-subj",
      "/CN=switch-9",
      "-out",
      request,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign",
      "-addext",
      "extendedKeyUsage=serverAuth,codeSigning",
    ); // prettier-ignore
    expect(made.ok).toBe(true);
    const issued = await sign(readFileSync(request, "utf8"), "switch-9", "client");
    writeFileSync(join(dir, "s9.pem"), issued.certPem);
    const text = openssl("x509", "-in", join(dir, "s9.pem"), "-noout", "-text").output;
    expect(text).toMatch(/CA:FALSE/);
    expect(text).not.toMatch(/CA:TRUE|Certificate Sign|Code Signing|Server Authentication/);
    expect(text).toMatch(/Extended Key Usage: \n\s+TLS Web Client Authentication\n/);
  });

  itNeeding(["openssl"], "an EC P-256 request", async () => {
    const request = join(dir, "ec.csr");
    const made = openssl(
      "req",
      "-new",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      join(dir, "ec.key"),
      "-subj",
      "/CN=ec-host",
      "-out",
      request,
    ); // prettier-ignore
    expect(made.ok).toBe(true);
    const issued = await sign(readFileSync(request, "utf8"), "ec-host", "server");
    writeFileSync(join(dir, "ec.pem"), issued.certPem);
    const verified = openssl("verify", "-CAfile", join(dir, "ca.pem"), "-purpose", "sslserver", join(dir, "ec.pem"));
    expect(verified.output).toContain(": OK");
  });

  it("a CN written as PrintableString", async () => {
    const key = forge.pki.privateKeyFromPem(rsaKeyPem.toString()) as forge.pki.rsa.PrivateKey;
    const csr = forge.pki.createCertificationRequest();
    csr.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
    csr.setSubject([{ type: CN, value: "printable-1" }]); // forge's default string type
    csr.sign(key, forge.md.sha256.create());
    const issued = await sign(forge.pki.certificationRequestToPem(csr), "printable-1");
    expect(readCertificate(issued.certPem).commonName).toBe("printable-1");
  });
});

describe("signCsr refuses", () => {
  it("a CN that is not the host's common name", async () => {
    const csr = await createCsr({ commonName: "host-2", keyPem: rsaKeyPem.toString() });
    await expect(sign(csr, "host-3")).rejects.toThrow(
      'csr: subject CN "host-2" does not match the host\'s common name "host-3"',
    );
  });

  it("a subject with more than the CN", async () => {
    const csr = forgeCsr(rsaKeyPem.toString(), [
      { type: "2.5.4.10", value: "Acme" },
      { type: CN, value: "host-4" },
    ]);
    await expect(sign(csr, "host-4")).rejects.toThrow("csr: subject must be exactly one CN attribute; found O, CN");
  });

  it("a subject with two CNs", async () => {
    const csr = forgeCsr(rsaKeyPem.toString(), [
      { type: CN, value: "host-5" },
      { type: CN, value: "admin" },
    ]);
    await expect(sign(csr, "host-5")).rejects.toThrow("found CN, CN");
  });

  it("a subject without a CN", async () => {
    const csr = forgeCsr(rsaKeyPem.toString(), [{ type: "2.5.4.11", value: "host-6" }]);
    await expect(sign(csr, "host-6")).rejects.toThrow("csr: subject must be exactly one CN attribute; found OU");
  });

  const hostile: [string, string][] = [
    ["a newline", "host\nevil"],
    ["a double quote", 'host"evil'],
    ["a single quote", "host'evil"],
    ["a NUL byte", "host\u0000evil"],
    ["a slash", "host/CN=evil"],
    ["a comma", "host,O=evil"],
    ["a space", "host evil"],
    ["a leading space", " host"],
    ["a non-ASCII letter", "hóst"],
    ["65 characters", "h".repeat(65)],
  ];
  for (const [what, commonName] of hostile) {
    it(`a CN with ${what}, stating the rule`, async () => {
      const csr = forgeCsr(rsaKeyPem.toString(), [{ type: CN, value: commonName }]);
      const refusal = sign(csr, "host-7");
      await expect(refusal).rejects.toThrow(PkiError);
      await expect(refusal).rejects.toThrow(
        /^csr: subject CN ".*" is not allowed: a common name is 1 to 64 characters, each a letter, digit, '\.', '-' or '_'$/s,
      );
    });
  }

  it("a request whose signature does not verify", async () => {
    const der = Buffer.from(
      (await createCsr({ commonName: "host-8", keyPem: rsaKeyPem.toString() })).replace(/-----[A-Z ]+-----|\s/g, ""),
      "base64",
    );
    der[der.length - 1] = (der[der.length - 1] as number) ^ 0x01;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
    await expect(sign(tampered, "host-8")).rejects.toThrow(/^csr: signature does not verify/);
  });

  it("a request signed by a different key than the one it contains", async () => {
    const csr = forge.pki.certificationRequestFromPem(
      await createCsr({ commonName: "host-9", keyPem: rsaKeyPem.toString() }),
    );
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
      type: "pkcs8",
      format: "pem",
    });
    csr.sign(forge.pki.privateKeyFromPem(other.toString()), forge.md.sha256.create());
    await expect(sign(forge.pki.certificationRequestToPem(csr), "host-9")).rejects.toThrow(
      /^csr: signature does not verify/,
    );
  });

  it("an RSA key shorter than 2048 bits", async () => {
    const csr = forgeCsr(rsa1024KeyPem, [{ type: CN, value: "host-10" }]);
    await expect(sign(csr, "host-10")).rejects.toThrow(
      "csr: RSA key of 1024 bits is too weak: RSA keys must be at least 2048 bits",
    );
  });

  it("a request signed with SHA-1", async () => {
    const csr = forgeCsr(rsaKeyPem.toString(), [{ type: CN, value: "host-11" }], forge.md.sha1.create());
    await expect(sign(csr, "host-11")).rejects.toThrow(
      /^csr: is signed with algorithm 1\.2\.840\.113549\.1\.1\.5; accepted are/,
    );
  });

  itNeeding(["openssl"], "an Ed25519 key", async () => {
    const request = join(dir, "ed.csr");
    openssl("genpkey", "-algorithm", "ed25519", "-out", join(dir, "ed.key"));
    expect(openssl("req", "-new", "-key", join(dir, "ed.key"), "-subj", "/CN=ed", "-out", request).ok).toBe(true);
    await expect(sign(readFileSync(request, "utf8"), "ed")).rejects.toThrow(/^csr: key type ed25519 is not accepted/);
  });

  it("text that is not a single PEM certificate request", async () => {
    await expect(sign("hello", "h")).rejects.toThrow(/^csr: is not PEM/);
    await expect(sign(ca.certPem, "h")).rejects.toThrow(/^csr: is a PEM "CERTIFICATE", expected "CERTIFICATE REQUEST"/);
    const csr = await createCsr({ commonName: "h", keyPem: rsaKeyPem.toString() });
    await expect(sign(csr + csr, "h")).rejects.toThrow(/^csr: contains 2 PEM blocks/);
    const garbage = "-----BEGIN CERTIFICATE REQUEST-----\nMAMCAQA=\n-----END CERTIFICATE REQUEST-----\n";
    await expect(sign(garbage, "h")).rejects.toThrow(/^csr: is not a valid PKCS#10 certificate request/);
  });

  it("an over-long request before parsing it", async () => {
    await expect(sign("x".repeat(70_000), "h")).rejects.toThrow(/^csr: is 70000 characters; at most 65536/);
  });
});

describe("createCsr", () => {
  it("refuses a weak key and a hostile common name", async () => {
    await expect(createCsr({ commonName: "h", keyPem: rsa1024KeyPem })).rejects.toThrow(
      /^keyPem: RSA key of 1024 bits/,
    );
    await expect(createCsr({ commonName: "a b", keyPem: rsaKeyPem.toString() })).rejects.toThrow(/^commonName: /);
  });
});
