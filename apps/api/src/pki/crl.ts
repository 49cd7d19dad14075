import forge from "node-forge";
import { openCa } from "./ca-signer.ts";
import { encodeSigned, toPem } from "./der.ts";
import { PkiError } from "./pki-error.ts";
import { normalizeSerialHex, serialBytes } from "./serial.ts";

const { asn1 } = forge;
type Asn1 = forge.asn1.Asn1;

/** RFC 5280 5.3.1 CRLReason values that apply to a network's hosts and switches. */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  caCompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;

export interface RevokedEntry {
  serialHex: string;
  revokedAt: Date;
  reason: RevocationReason;
}

export interface CrlOptions {
  caCertPem: string;
  caKeyPem: string;
  revoked: readonly RevokedEntry[];
  /** Must grow with every CRL the CA publishes, so a switch can tell the newer one. */
  crlNumber: number | bigint;
  thisUpdate: Date;
  /**
   * OpenVPN refuses every connection once the CRL it reads has passed nextUpdate, so the caller
   * must publish a fresh CRL well before this date.
   */
  nextUpdate: Date;
}

const OIDS = { authorityKeyIdentifier: "2.5.29.35", crlNumber: "2.5.29.20", reasonCode: "2.5.29.21" };

function node(type: number, constructed: boolean, value: string | Asn1[]): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, type, constructed, value);
}

function fromDer(der: Buffer): Asn1 {
  return asn1.fromDer(der.toString("binary"));
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function time(date: Date): Asn1 {
  return date.getUTCFullYear() < 2050
    ? node(asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date))
    : node(asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}

function positiveInteger(magnitude: Buffer): Asn1 {
  const padded = (magnitude[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), magnitude]) : magnitude;
  return node(asn1.Type.INTEGER, false, padded.toString("binary"));
}

function extension(oid: string, value: Asn1): Asn1 {
  return node(asn1.Type.SEQUENCE, true, [
    node(asn1.Type.OID, false, asn1.oidToDer(oid).getBytes()),
    node(asn1.Type.OCTETSTRING, false, asn1.toDer(value).getBytes()),
  ]);
}

function assertDate(field: string, value: Date): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new PkiError(field, "must be a valid date");
}

function crlNumberBytes(value: number | bigint): Buffer {
  const n = typeof value === "bigint" ? value : Number.isSafeInteger(value) ? BigInt(value) : -1n;
  // RFC 5280 5.2.3: a non-negative integer of at most 20 octets.
  if (n < 0n || n >= 1n << 159n) throw new PkiError("crlNumber", "must be a whole number from 0 to 2^159 - 1");
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex");
}

/**
 * A CRL v2 signed by the network's CA, with crlNumber and authorityKeyIdentifier, and a
 * reasonCode on each entry. Entries revoked for an "unspecified" reason carry no reasonCode, as
 * RFC 5280 5.3.1 asks. Returns PEM, which both `openssl crl` and OpenVPN's crl-verify read.
 */
export async function buildCrl(options: CrlOptions): Promise<string> {
  const ca = openCa(options.caCertPem, options.caKeyPem);
  if (!ca.canSignCrls) throw new PkiError("caCertPem", "cannot sign CRLs: its keyUsage lacks cRLSign");
  assertDate("thisUpdate", options.thisUpdate);
  assertDate("nextUpdate", options.nextUpdate);
  if (options.nextUpdate <= options.thisUpdate) throw new PkiError("nextUpdate", "must be later than thisUpdate");
  const crlNumber = crlNumberBytes(options.crlNumber);

  const seen = new Set<string>();
  const entries = options.revoked.map((entry, index) => {
    const field = `revoked[${index}]`;
    const serialHex = normalizeSerialHex(`${field}.serialHex`, entry.serialHex);
    if (seen.has(serialHex)) throw new PkiError(`${field}.serialHex`, `serial ${serialHex} is listed twice`);
    seen.add(serialHex);
    assertDate(`${field}.revokedAt`, entry.revokedAt);
    const code = REVOCATION_REASONS[entry.reason];
    if (code === undefined) {
      throw new PkiError(`${field}.reason`, `must be one of ${Object.keys(REVOCATION_REASONS).join(", ")}`);
    }
    const fields = [positiveInteger(serialBytes(serialHex)), time(entry.revokedAt)];
    if (code !== 0) {
      const reason = node(asn1.Type.ENUMERATED, false, String.fromCharCode(code));
      fields.push(node(asn1.Type.SEQUENCE, true, [extension(OIDS.reasonCode, reason)]));
    }
    return node(asn1.Type.SEQUENCE, true, fields);
  });

  const authorityKeyIdentifier = node(asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, ca.keyIdentifier.toString("binary")),
  ]);
  const tbs = node(asn1.Type.SEQUENCE, true, [
    node(asn1.Type.INTEGER, false, String.fromCharCode(1)), // v2, required for extensions
    fromDer(ca.algorithm.identifier),
    fromDer(ca.subjectDer),
    time(options.thisUpdate),
    time(options.nextUpdate),
    // An empty revokedCertificates list must be left out rather than encoded empty.
    ...(entries.length > 0 ? [node(asn1.Type.SEQUENCE, true, entries)] : []),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
      node(asn1.Type.SEQUENCE, true, [
        extension(OIDS.authorityKeyIdentifier, authorityKeyIdentifier),
        extension(OIDS.crlNumber, positiveInteger(crlNumber)),
      ]),
    ]),
  ]);
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), "binary");
  const signature = await ca.sign(tbsDer);
  return toPem("X509 CRL", encodeSigned(tbsDer, ca.algorithm.identifier, signature));
}
