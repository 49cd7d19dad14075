import forge from "node-forge";
import { encodeSigned, toPem } from "./der.ts";
import type { SignatureAlgorithm } from "./keys.ts";
import { OID } from "./x509-parts.ts";

const { asn1 } = forge;

/** What a certificate says; the issuer side comes from the signer. */
export interface CertificateTemplate {
  serialHex: string;
  commonName: string;
  notBefore: Date;
  notAfter: Date;
  spkiDer: Buffer;
  /** forge extension descriptions (name + flags, or name + prebuilt value). */
  extensions: object[];
}

export interface Issuer {
  /** null for a self-signed root: the issuer is then the subject forge built. */
  subjectDer: Buffer | null;
  algorithm: SignatureAlgorithm;
  sign(data: Buffer): Promise<Buffer>;
}

// forge's TBSCertificate builder is not in its type definitions.
const getTBSCertificate = (forge.pki as unknown as { getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1 })
  .getTBSCertificate;

// forge only models RSA public keys, and the key we certify may be EC; forge gets a throwaway
// key to build the structure and the real SubjectPublicKeyInfo is spliced in afterwards.
const PLACEHOLDER_KEY = forge.pki.setRsaPublicKey(new forge.jsbn.BigInteger("3"), new forge.jsbn.BigInteger("3"));

/**
 * A subject that is one CN, as a UTF8String like OpenSSL writes it (forge's default,
 * PrintableString, cannot hold '_'). forge's type definitions mistype valueTagClass as a class.
 */
export function commonNameSubject(commonName: string): forge.pki.CertificateField[] {
  const valueTagClass = asn1.Type.UTF8 as unknown as forge.asn1.Class;
  return [{ type: OID.commonName, value: commonName, valueTagClass }];
}

function fromDer(der: Buffer): forge.asn1.Asn1 {
  return asn1.fromDer(der.toString("binary"));
}

/** Whole seconds: what the certificate can hold, so the dates we return equal the ones inside. */
export function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/**
 * forge lays out the TBSCertificate (version, serial, validity, subject, extensions); the
 * signature comes from Node's native crypto, which is two orders of magnitude faster than
 * forge's JavaScript RSA, and the signed certificate is assembled as plain DER.
 */
export async function buildCertificate(template: CertificateTemplate, issuer: Issuer): Promise<string> {
  const cert = forge.pki.createCertificate();
  cert.serialNumber = template.serialHex;
  cert.validity.notBefore = template.notBefore;
  cert.validity.notAfter = template.notAfter;
  cert.setSubject(commonNameSubject(template.commonName));
  cert.setIssuer(commonNameSubject(template.commonName));
  cert.publicKey = PLACEHOLDER_KEY;
  cert.setExtensions(template.extensions);
  cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption as string;

  const tbs = getTBSCertificate(cert);
  const fields = tbs.value as forge.asn1.Asn1[];
  fields[2] = fromDer(issuer.algorithm.identifier);
  if (issuer.subjectDer) fields[3] = fromDer(issuer.subjectDer);
  fields[6] = fromDer(template.spkiDer);
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), "binary");
  const signature = await issuer.sign(tbsDer);
  return toPem("CERTIFICATE", encodeSigned(tbsDer, issuer.algorithm.identifier, signature));
}

/** subjectKeyIdentifier with a value we computed (forge would hash its placeholder key). */
export function subjectKeyIdentifierExtension(id: Buffer): object {
  return {
    name: "subjectKeyIdentifier",
    value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, id.toString("binary")),
  };
}

export function authorityKeyIdentifierExtension(id: Buffer): object {
  return { name: "authorityKeyIdentifier", keyIdentifier: id.toString("binary") };
}
