import type { X509Certificate } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { openCa, readPrivateKey } from "./ca-signer.ts";
import { type CertificateKind, parseCertificate } from "./certificate-info.ts";
import type { RevocationReason } from "./crl.ts";
import { PkiError } from "./pki-error.ts";
import { normalizeSerialHex } from "./serial.ts";

export interface ImportedCertificate {
  commonName: string;
  /** Normalized as everywhere in this module: uppercase, whole bytes, no leading zero bytes. */
  serialHex: string;
  status: "valid" | "revoked" | "expired";
  /** Missing only when easy-rsa kept no copy of the certificate (a warning says so). */
  certPem: string | undefined;
  notBefore: Date | undefined;
  /** From index.txt, which easy-rsa keeps for every certificate it signed. */
  notAfter: Date;
  kind: CertificateKind | "unknown";
  revokedAt?: Date;
  reason?: RevocationReason;
  /** private/<name>.key when easy-rsa generated the key and it matches (PKCS#8, unencrypted). */
  keyPem?: string;
}

export interface ImportedPki {
  ca: {
    certPem: string;
    keyPem: string;
    commonName: string | undefined;
    serialHex: string;
    notBefore: Date;
    notAfter: Date;
  };
  certificates: ImportedCertificate[];
  /** Things skipped or adjusted, one sentence each, to show the operator before committing. */
  warnings: string[];
}

/** OpenSSL's index.txt reason names (crypto/x509/v3_enum.c spellings used by `openssl ca`). */
const INDEX_REASONS: Record<string, RevocationReason> = {
  unspecified: "unspecified",
  keyCompromise: "keyCompromise",
  keyTime: "keyCompromise",
  CACompromise: "caCompromise",
  CAkeyTime: "caCompromise",
  affiliationChanged: "affiliationChanged",
  superseded: "superseded",
  cessationOfOperation: "cessationOfOperation",
};

/** Where easy-rsa 3 keeps certificate copies: current, by serial, and those moved by revoke/renew. */
const CERTIFICATE_DIRS = [
  "issued",
  "certs_by_serial",
  "revoked/certs_by_serial",
  "revoked/issued",
  "renewed/certs_by_serial",
  "renewed/issued",
];

/**
 * Reads an easy-rsa 3 PKI folder so a network can move to Switchboard without re-keying its
 * hosts: the CA and its key, every certificate index.txt records, with serials and revocations
 * exactly as they were (a revoked host must stay revoked in the first CRL we publish).
 */
export async function importEasyRsaPki(dir: string): Promise<ImportedPki> {
  const warnings: string[] = [];
  const caCertPem = await readText(dir, "ca.crt");
  const caKeyPem = await readText(dir, "private/ca.key");
  openCa(caCertPem, caKeyPem, { cert: "ca.crt", key: "private/ca.key" });
  const ca = parseCertificate(caCertPem, "ca.crt");
  const caPublicKey = ca.x509.publicKey;

  const files = new Map<string, { pem: string; file: string; x509: X509Certificate }>();
  for (const sub of CERTIFICATE_DIRS) {
    for (const name of await listFiles(join(dir, sub))) {
      if (!/\.(crt|pem)$/.test(name)) continue;
      const file = `${sub}/${name}`;
      const pem = await readText(dir, file);
      let parsed: ReturnType<typeof parseCertificate>;
      try {
        parsed = parseCertificate(pem, file);
      } catch (error) {
        warnings.push(`${file} skipped: ${(error as Error).message}`);
        continue;
      }
      if (!parsed.x509.checkIssued(ca.x509) || !parsed.x509.verify(caPublicKey)) {
        warnings.push(`${file} skipped: it was not signed by this CA`);
        continue;
      }
      if (!files.has(parsed.info.serialHex)) files.set(parsed.info.serialHex, { pem, file, x509: parsed.x509 });
    }
  }

  const index = parseIndex(await readText(dir, "index.txt"), warnings);
  const certificates: ImportedCertificate[] = [];
  for (const entry of index) {
    const found = files.get(entry.serialHex);
    files.delete(entry.serialHex);
    if (!found)
      warnings.push(`index.txt serial ${entry.serialHex} (${entry.commonName}): no copy of the certificate found`);
    const info = found ? parseCertificate(found.pem, found.file).info : undefined;
    const record: ImportedCertificate = {
      commonName: info?.commonName ?? entry.commonName,
      serialHex: entry.serialHex,
      status: entry.status,
      certPem: found?.pem,
      notBefore: info?.notBefore,
      notAfter: entry.expiresAt,
      kind: info?.kind ?? "unknown",
    };
    if (entry.revokedAt) record.revokedAt = entry.revokedAt;
    if (entry.reason) record.reason = entry.reason;
    if (found && record.status === "valid") {
      const keyPem = await matchingKey(dir, found.file, found.x509, warnings);
      if (keyPem) record.keyPem = keyPem;
    }
    certificates.push(record);
  }
  for (const [serialHex, { file }] of files) {
    if (!file.startsWith("issued/")) continue;
    warnings.push(`${file} (serial ${serialHex}) skipped: index.txt has no record of it`);
  }

  return {
    ca: {
      certPem: caCertPem,
      keyPem: readPrivateKey(caKeyPem, "private/ca.key").export({ type: "pkcs8", format: "pem" }).toString(),
      commonName: ca.info.commonName,
      serialHex: ca.info.serialHex,
      notBefore: ca.info.notBefore,
      notAfter: ca.info.notAfter,
    },
    certificates,
    warnings,
  };
}

interface IndexEntry {
  status: "valid" | "revoked" | "expired";
  expiresAt: Date;
  revokedAt?: Date;
  reason?: RevocationReason;
  serialHex: string;
  commonName: string;
}

/**
 * index.txt is OpenSSL's CA database: one line per certificate, six TAB-separated fields:
 * status (V, R, E), expiry, revocation ("time[,reason]", empty unless R), serial, file name
 * (always "unknown" with easy-rsa), subject DN ("/CN=name").
 */
export function parseIndex(text: string, warnings: string[] = []): IndexEntry[] {
  const entries: IndexEntry[] = [];
  const serials = new Set<string>();
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const field = `index.txt line ${i + 1}`;
    const parts = line.split("\t");
    if (parts.length !== 6) throw new PkiError(field, `must have 6 TAB-separated fields; found ${parts.length}`);
    const [status = "", expiry = "", revocation = "", serial = "", , dn = ""] = parts;
    const statuses = { V: "valid", R: "revoked", E: "expired" } as const;
    if (!(status in statuses)) throw new PkiError(field, `status must be V, R or E; found "${status}"`);
    const serialHex = normalizeSerialHex(`${field} serial`, serial);
    if (serials.has(serialHex)) throw new PkiError(field, `serial ${serialHex} appears twice`);
    serials.add(serialHex);
    const entry: IndexEntry = {
      status: statuses[status as keyof typeof statuses],
      expiresAt: parseIndexTime(expiry, `${field} expiry`),
      serialHex,
      commonName: /(?:^|\/)CN=([^/]*)/.exec(dn)?.[1] ?? dn,
    };
    if (status === "R") {
      const [time = "", reasonName] = revocation.split(",");
      entry.revokedAt = parseIndexTime(time, `${field} revocation date`);
      if (reasonName === undefined) {
        entry.reason = "unspecified";
      } else if (reasonName in INDEX_REASONS) {
        entry.reason = INDEX_REASONS[reasonName];
      } else {
        // certificateHold and holdInstruction suspend a certificate; we have no hold, and
        // keeping it refused is the safe reading.
        entry.reason = "unspecified";
        warnings.push(`${field}: reason "${reasonName}" is imported as a revocation with reason unspecified`);
      }
    } else if (revocation !== "") {
      throw new PkiError(field, `only revoked (R) lines may have a revocation date; found "${revocation}"`);
    }
    entries.push(entry);
  });
  return entries;
}

/** OpenSSL writes UTCTime (YYMMDDHHMMSSZ) before 2050 and GeneralizedTime (YYYYMMDDHHMMSSZ) after. */
function parseIndexTime(value: string, field: string): Date {
  const match = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) throw new PkiError(field, `"${value}" is not a time like 290228102548Z`);
  const [, y = "", mo = "", d = "", h = "", mi = "", s = ""] = match;
  const year = y.length === 4 ? Number(y) : Number(y) < 50 ? 2000 + Number(y) : 1900 + Number(y);
  const date = new Date(Date.UTC(year, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  if (Number.isNaN(date.getTime()) || date.getUTCDate() !== Number(d))
    throw new PkiError(field, `"${value}" is not a valid date`);
  return date;
}

async function matchingKey(dir: string, certFile: string, x509: X509Certificate, warnings: string[]) {
  const name = /^issued\/(.+)\.crt$/.exec(certFile)?.[1];
  if (!name) return undefined;
  const keyFile = `private/${name}.key`;
  let keyPem: string;
  try {
    keyPem = await readFile(join(dir, keyFile), "utf8");
  } catch {
    return undefined; // the host generated its own key and sent a request: nothing to import
  }
  try {
    const key = readPrivateKey(keyPem, keyFile);
    if (!x509.checkPrivateKey(key)) {
      warnings.push(`${keyFile} skipped: it does not belong to ${certFile}`);
      return undefined;
    }
    return key.export({ type: "pkcs8", format: "pem" }).toString();
  } catch (error) {
    warnings.push(`${keyFile} skipped: ${(error as Error).message}`);
    return undefined;
  }
}

async function readText(dir: string, file: string): Promise<string> {
  try {
    return await readFile(join(dir, file), "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PkiError(file, code === "ENOENT" ? `not found in ${dir}` : `cannot be read (${code})`);
  }
}

async function listFiles(path: string): Promise<string[]> {
  try {
    return (await readdir(path)).sort();
  } catch {
    return [];
  }
}
