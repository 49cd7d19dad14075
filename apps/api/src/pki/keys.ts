import { createHash, generateKeyPair, type KeyObject, sign } from "node:crypto";
import forge from "node-forge";
import { children, content, readRoot, TAG } from "./der.ts";

export const KEY_TYPES = ["rsa-2048", "rsa-3072", "rsa-4096", "ec-p256", "ec-p384"] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export interface GeneratedKey {
  /** PKCS#8, unencrypted: what OpenVPN's `key` option and a profile's <key> block read. */
  keyPem: string;
  spkiDer: Buffer;
}

/**
 * Native key generation runs on libuv's thread pool, so several calls in flight use every core
 * while the event loop stays free; forge's pure-JS RSA key generation would take seconds.
 */
export function generateKey(type: KeyType): Promise<GeneratedKey> {
  const encoding = {
    publicKeyEncoding: { type: "spki", format: "der" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  } as const;
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, spkiDer: Buffer, keyPem: string) =>
      error ? reject(error) : resolve({ keyPem, spkiDer });
    if (type.startsWith("rsa")) generateKeyPair("rsa", { modulusLength: Number(type.slice(4)), ...encoding }, done);
    else generateKeyPair("ec", { namedCurve: type === "ec-p256" ? "prime256v1" : "secp384r1", ...encoding }, done);
  });
}

/**
 * What we accept for any key we certify: RSA of at least 2048 bits (NIST's floor until 2030;
 * capped at 8192 so a huge modulus cannot be used to stall verification) or ECDSA on P-256/P-384,
 * the curves OpenVPN and every TLS stack handle. Returns the refusal reason, or undefined.
 */
export function weakKeyReason(key: KeyObject): string | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === "rsa") {
    const bits = details.modulusLength ?? 0;
    if (bits < 2048) return `RSA key of ${bits} bits is too weak: RSA keys must be at least 2048 bits`;
    if (bits > 8192) return `RSA key of ${bits} bits is too large: RSA keys must be at most 8192 bits`;
    return undefined;
  }
  if (key.asymmetricKeyType === "ec") {
    if (details.namedCurve === "prime256v1" || details.namedCurve === "secp384r1") return undefined;
    return `EC curve ${details.namedCurve ?? "(unnamed)"} is not accepted: use P-256 or P-384`;
  }
  return `key type ${key.asymmetricKeyType ?? "unknown"} is not accepted: use RSA (2048 bits or more) or EC P-256/P-384`;
}

/**
 * RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. OpenSSL computes the same, so
 * keys identified by us and by easy-rsa chain the same way.
 */
export function keyIdentifier(spkiDer: Buffer): Buffer {
  const spki = readRoot(spkiDer, TAG.sequence);
  const bitString = children(spkiDer, spki)[1];
  if (!bitString || bitString.tag !== TAG.bitString) throw new Error("SubjectPublicKeyInfo without a key");
  return createHash("sha1").update(content(spkiDer, bitString).subarray(1)).digest();
}

export interface SignatureAlgorithm {
  hash: "sha256" | "sha384";
  /** DER AlgorithmIdentifier for the certificate or CRL. */
  identifier: Buffer;
}

function algorithmIdentifier(oid: string, withNullParameters: boolean): Buffer {
  const { asn1 } = forge;
  const parts = [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(oid).getBytes())];
  // RSA PKCS#1 identifiers carry an explicit NULL; ECDSA ones must have no parameters (RFC 5758).
  if (withNullParameters) parts.push(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ""));
  const der = asn1.toDer(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, parts)).getBytes();
  return Buffer.from(der, "binary");
}

const SHA256_WITH_RSA = algorithmIdentifier("1.2.840.113549.1.1.11", true);
const ECDSA_WITH_SHA256 = algorithmIdentifier("1.2.840.10045.4.3.2", false);
const ECDSA_WITH_SHA384 = algorithmIdentifier("1.2.840.10045.4.3.3", false);

/** How a CA key signs: SHA-256 with RSA, or ECDSA with the hash matching the curve's strength. */
export function signatureAlgorithmFor(key: KeyObject): SignatureAlgorithm {
  if (key.asymmetricKeyType === "rsa") return { hash: "sha256", identifier: SHA256_WITH_RSA };
  if (key.asymmetricKeyType === "ec") {
    return key.asymmetricKeyDetails?.namedCurve === "secp384r1"
      ? { hash: "sha384", identifier: ECDSA_WITH_SHA384 }
      : { hash: "sha256", identifier: ECDSA_WITH_SHA256 };
  }
  throw new Error(`cannot sign with a ${key.asymmetricKeyType} key`);
}

/** Signs on libuv's thread pool (the callback form), so signatures in flight use every core. */
export function signAsync(hash: string, data: Buffer, key: KeyObject): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    sign(hash, data, key, (error, signature) => (error ? reject(error) : resolve(signature))),
  );
}
