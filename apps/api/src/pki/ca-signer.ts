import { createHash, createPrivateKey, type KeyObject } from "node:crypto";
import { parseCertificate } from "./certificate-info.ts";
import { content, readRoot, TAG } from "./der.ts";
import { keyIdentifier, type SignatureAlgorithm, signAsync, signatureAlgorithmFor } from "./keys.ts";
import { PkiError } from "./pki-error.ts";
import { KEY_USAGE, keyUsageBits, OID } from "./x509-parts.ts";

/** A CA certificate and its key, checked once, ready to sign certificates and CRLs. */
export interface CaSigner {
  certPem: string;
  /** The CA's subject exactly as encoded in its certificate: it becomes the issuer of what it signs. */
  subjectDer: Buffer;
  /** Goes into authorityKeyIdentifier so OpenSSL finds the right CA when several share a name. */
  keyIdentifier: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** False only when the CA's keyUsage exists and lacks cRLSign (some imported CAs). */
  canSignCrls: boolean;
  algorithm: SignatureAlgorithm;
  sign(data: Buffer): Promise<Buffer>;
}

export interface CaFields {
  cert: string;
  key: string;
}

const ENCRYPTED_PEM = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/;

/** Reads an unencrypted PEM private key, naming `field` in every refusal. */
export function readPrivateKey(keyPem: string, field: string): KeyObject {
  if (ENCRYPTED_PEM.test(keyPem)) {
    throw new PkiError(
      field,
      "is protected by a passphrase; only unencrypted keys can be used (decrypt it with `openssl pkey -in KEY -out PLAIN`)",
    );
  }
  try {
    return createPrivateKey({ key: keyPem, format: "pem" });
  } catch (error) {
    throw new PkiError(field, `is not a readable PEM private key (${(error as Error).message})`);
  }
}

/**
 * Opening a CA (parsing its key, checking the pair) costs about a millisecond, more than
 * building a certificate, so the last few opened CAs are kept. The process holds the master key
 * and can unseal these keys at any time anyway; keeping a handful of them parsed adds no exposure.
 */
const CACHE_SIZE = 16;
const cache = new Map<string, CaSigner>();

export function openCa(
  certPem: string,
  keyPem: string,
  fields: CaFields = { cert: "caCertPem", key: "caKeyPem" },
): CaSigner {
  const cacheKey = createHash("sha256").update(certPem).update("\0").update(keyPem).digest("base64");
  const cached = cache.get(cacheKey);
  if (cached) {
    // Re-inserting moves the entry to the end: the map's order is least recently used first.
    cache.delete(cacheKey);
    cache.set(cacheKey, cached);
    return cached;
  }
  const signer = loadCa(certPem, keyPem, fields);
  cache.set(cacheKey, signer);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return signer;
}

function loadCa(certPem: string, keyPem: string, fields: CaFields): CaSigner {
  const { x509, parts } = parseCertificate(certPem, fields.cert);
  if (!x509.ca) throw new PkiError(fields.cert, "is not a CA certificate: basicConstraints CA:TRUE is missing");
  const usage = keyUsageBits(parts);
  if (usage !== undefined && !(usage & KEY_USAGE.keyCertSign)) {
    throw new PkiError(fields.cert, "cannot sign certificates: its keyUsage lacks keyCertSign");
  }
  const key = readPrivateKey(keyPem, fields.key);
  if (!x509.checkPrivateKey(key)) throw new PkiError(fields.key, "does not belong to the CA certificate");
  let algorithm: SignatureAlgorithm;
  try {
    algorithm = signatureAlgorithmFor(key);
  } catch {
    throw new PkiError(fields.key, `is a ${key.asymmetricKeyType} key; a CA key must be RSA or EC`);
  }
  // Prefer the identifier the CA states for itself: certificates it issued before an import
  // carry that value, and a CRL must name the same one.
  const stated = parts.extensions.get(OID.subjectKeyIdentifier)?.value;
  let statedId: Buffer | undefined;
  try {
    statedId = stated ? content(stated, readRoot(stated, TAG.octetString)) : undefined;
  } catch {
    throw new PkiError(fields.cert, "has a malformed subjectKeyIdentifier extension");
  }
  return {
    certPem,
    subjectDer: parts.subjectDer,
    keyIdentifier: statedId ?? keyIdentifier(parts.spkiDer),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    canSignCrls: usage === undefined || (usage & KEY_USAGE.cRLSign) !== 0,
    algorithm,
    sign: (data) => signAsync(algorithm.hash, data, key),
  };
}
