import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { missing } from "@switchboard/testkit/env";
import { itNeeding } from "@switchboard/testkit/needs";
import { afterAll, beforeAll, expect } from "vitest";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { type ApiClient, apiClient, networkBody } from "../support/api-client.ts";
import { EASYRSA, openssl, scratchDir } from "../support/openssl.ts";
import { openTestApp } from "../support/test-app.ts";
import { type DatabaseKind, describeEachDatabase } from "../support/test-database.ts";

describeEachDatabase("easy-rsa migration", (kind: DatabaseKind) => {
  let app: TypedApp;
  let api: ApiClient;
  const files = scratchDir("sb-easyrsa-api-");
  const pki = join(files.dir, "pki");
  const easyrsa = (...args: string[]) => {
    const caName = args[0] === "build-ca" ? { EASYRSA_REQ_CN: "Legacy CA" } : {};
    const result = spawnSync(EASYRSA, args, {
      cwd: files.dir,
      encoding: "utf8",
      env: { ...process.env, EASYRSA_BATCH: "1", EASYRSA_PKI: pki, ...caName },
    });
    if (result.status !== 0) throw new Error(`easyrsa ${args.join(" ")}: ${result.stdout}${result.stderr}`);
  };

  beforeAll(async () => {
    app = await openTestApp(kind);
    api = apiClient(app);
    if (missing("openssl", "easy-rsa")) return; // its tests are skipped, and say why
    easyrsa("init-pki");
    easyrsa("build-ca", "nopass");
    for (const name of ["keeper", "gone"]) easyrsa("build-client-full", name, "nopass");
    easyrsa("revoke", "gone", "keyCompromise");
    easyrsa("gen-crl");
  });
  afterAll(async () => {
    await app.close();
    files.cleanup();
  });

  const upload = () => ({
    caCert: readFileSync(join(pki, "ca.crt"), "utf8"),
    caKey: readFileSync(join(pki, "private", "ca.key"), "utf8"),
    index: readFileSync(join(pki, "index.txt"), "utf8"),
    issued: readdirSync(join(pki, "issued")).map((file) => ({
      name: file.replace(/\.crt$/, ""),
      pem: readFileSync(join(pki, "issued", file), "utf8"),
    })),
  });

  itNeeding(
    ["openssl", "easy-rsa"],
    "adopts an easy-rsa PKI keeping serials and revocations, and signs with its CA",
    async () => {
      const net = (await api.post("/api/networks", networkBody())).body;
      const keeper = (await api.post("/api/hosts", { networkId: net.id, commonName: "keeper" })).body;
      const imported = await api.post(`/api/networks/${net.id}/pki/import`, upload());
      expect(imported.status).toBe(201);
      expect(imported.body.imported).toBeGreaterThanOrEqual(2);

      const serialOf = (name: string) =>
        openssl(["x509", "-noout", "-serial", "-in", join(pki, "issued", `${name}.crt`)])
          .out.trim()
          .replace("serial=", "");
      const certs = (await api.get(`/api/certificates?networkId=${net.id}&limit=500`)).body.items;
      const bySerial = new Map(certs.map((c: { serial: string }) => [c.serial, c]));
      expect(bySerial.get(serialOf("keeper"))).toMatchObject({
        commonName: "keeper",
        revokedAt: null,
        hostId: keeper.id,
      });
      // easy-rsa moves a revoked certificate out of issued/, so its serial comes from index.txt.
      const index = readFileSync(join(pki, "index.txt"), "utf8");
      const goneSerial = /^R\t\S+\t\S+\t(\S+)\t\S+\t\/CN=gone$/m.exec(index)?.[1] ?? "missing";
      expect(bySerial.get(goneSerial)).toMatchObject({ commonName: "gone", revocationReason: "keyCompromise" });

      const crlText = openssl([
        "crl",
        "-text",
        "-noout",
        "-in",
        files.write("crl.pem", (await api.get(`/api/networks/${net.id}/crl`)).text),
      ]).out;
      expect(crlText).toContain(`Serial Number: ${goneSerial}`);
      expect((await api.get(`/api/networks/${net.id}/pki`)).body.ca.pem).toBe(
        readFileSync(join(pki, "ca.crt"), "utf8")
          .trim()
          .concat("\n")
          .replace(/^[\s\S]*?(-----BEGIN)/, "$1"),
      );

      // The imported CA signs new hosts: openssl verifies them against easy-rsa's own ca.crt.
      const newcomer = (await api.post("/api/hosts", { networkId: net.id, commonName: "newcomer" })).body;
      const cert = (await api.post(`/api/hosts/${newcomer.id}/certificate`, {})).body;
      expect(
        openssl(["verify", "-CAfile", join(pki, "ca.crt"), "-purpose", "sslclient", files.write("new.pem", cert.pem)])
          .status,
      ).toBe(0);
      // And a network that has issued certificates of its own refuses a second import.
      expect((await api.post(`/api/networks/${net.id}/pki/import`, upload())).status).toBe(409);
    },
  );

  itNeeding(["openssl", "easy-rsa"], "refuses a CA key that does not match the CA certificate", async () => {
    const net = (await api.post("/api/networks", networkBody())).body;
    const other = scratchDir("sb-otherkey-");
    try {
      openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", join(other.dir, "k.pem")]);
      const response = await api.post(`/api/networks/${net.id}/pki/import`, {
        ...upload(),
        caKey: readFileSync(join(other.dir, "k.pem"), "utf8"),
      });
      expect(response.status).toBe(400);
      expect(response.body.message).toMatch(/^body: /);
    } finally {
      other.cleanup();
    }
  });
});
