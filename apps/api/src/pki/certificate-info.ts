import { X509Certificate } from "node:crypto";
import { fromPem } from "./der.ts";
import { PkiError } from "./pki-error.ts";
import { normalizeSerialHex } from "./serial.ts";
import { type CertificateParts, commonNameOf, extendedKeyUsages, OID, splitCertificate } from "./x509-parts.ts";

export const CERTIFICATE_KINDS = ["server", "client", "backbone"] as const;
/**
 * server: a switch's OpenVPN server (serverAuth). client: a host (clientAuth). backbone: both
 * ends of a link between two switches, where one side runs as TLS server and checks
 * `remote-cert-tls client` and the other as TLS client checking `remote-cert-tls server`, so
 * the same certificate must pass both checks.
 */
export type CertificateKind = (typeof CERTIFICATE_KINDS)[number];

export interface CertificateInfo {
  /** undefined when the subject has no single readable CN. */
  commonName: string | undefined;
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  /** Guessed from the extended key usage; "unknown" when it names neither TLS purpose. */
  kind: CertificateKind | "unknown";
  isCa: boolean;
}

/** Guesses the kind the way OpenVPN's `remote-cert-tls` would judge the certificate. */
export function kindFromExtendedKeyUsage(oids: readonly string[]): CertificateKind | "unknown" {
  const server = oids.includes(OID.serverAuth);
  const client = oids.includes(OID.clientAuth);
  if (server && client) return "backbone";
  if (server) return "server";
  if (client) return "client";
  return "unknown";
}

export interface ParsedCertificate {
  info: CertificateInfo;
  x509: X509Certificate;
  parts: CertificateParts;
}

/** Parses one PEM certificate; `field` names it in errors (e.g. "issued/c1.crt"). */
export function parseCertificate(certPem: string, field = "certificate"): ParsedCertificate {
  const der = fromPem(certPem, ["CERTIFICATE"]);
  if (typeof der === "string") throw new PkiError(field, der);
  let x509: X509Certificate;
  let parts: CertificateParts;
  let ekus: string[];
  try {
    x509 = new X509Certificate(der);
    parts = splitCertificate(der);
    ekus = extendedKeyUsages(parts);
  } catch (error) {
    throw new PkiError(field, `is not a valid X.509 certificate (${(error as Error).message})`);
  }
  const info: CertificateInfo = {
    commonName: commonNameOf(parts),
    serialHex: normalizeSerialHex(field, x509.serialNumber),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    kind: kindFromExtendedKeyUsage(ekus),
    isCa: x509.ca,
  };
  return { info, x509, parts };
}

/** Serial, validity, CN and kind of a PEM certificate, e.g. to store next to it. */
export function readCertificate(certPem: string, field = "certificate"): CertificateInfo {
  return parseCertificate(certPem, field).info;
}
