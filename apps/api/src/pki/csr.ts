import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { COMMON_NAME_RULE, isValidCommonName } from "./common-name.ts";
import { children, content, fromPem, readRoot, slice, TAG } from "./der.ts";
import { weakKeyReason } from "./keys.ts";
import { PkiError, quote } from "./pki-error.ts";
import { decodeNameString, nameAttributes, oidOf } from "./x509-parts.ts";

const FIELD = "csr";
/** A CSR is a few KiB at most; anything larger is refused before parsing. */
const MAX_CSR_CHARS = 64 * 1024;

/** Signature algorithms a CSR may be signed with; SHA-1 and MD5 are refused. */
const CSR_SIGNATURES: Record<string, { hash: string; keyType: "rsa" | "ec" }> = {
  "1.2.840.113549.1.1.11": { hash: "sha256", keyType: "rsa" },
  "1.2.840.113549.1.1.12": { hash: "sha384", keyType: "rsa" },
  "1.2.840.113549.1.1.13": { hash: "sha512", keyType: "rsa" },
  "1.2.840.10045.4.3.2": { hash: "sha256", keyType: "ec" },
  "1.2.840.10045.4.3.3": { hash: "sha384", keyType: "ec" },
  "1.2.840.10045.4.3.4": { hash: "sha512", keyType: "ec" },
};

export interface CheckedCsr {
  commonName: string;
  spkiDer: Buffer;
  publicKey: KeyObject;
}

/**
 * Checks a PKCS#10 request before anything is signed: structure, the request's own signature
 * (proof that the requester holds the private key), key strength, and a subject that is exactly
 * one CN equal to `expectedCommonName`. Requested extensions are ignored on purpose: the CA
 * alone decides what a certificate may be used for.
 */
export function checkCsr(csrPem: string, expectedCommonName: string): CheckedCsr {
  if (csrPem.length > MAX_CSR_CHARS)
    throw new PkiError(FIELD, `is ${csrPem.length} characters; at most ${MAX_CSR_CHARS}`);
  const der = fromPem(csrPem, ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"]);
  if (typeof der === "string") throw new PkiError(FIELD, der);

  let info: Buffer;
  let subjectDer: Buffer;
  let spkiDer: Buffer;
  let signatureOid: string;
  let signature: Buffer;
  try {
    const request = readRoot(der, TAG.sequence);
    const [infoElement, algorithm, bits] = children(der, request);
    if (!infoElement || !algorithm || !bits || bits.tag !== TAG.bitString) throw new Error("incomplete request");
    const [version, subject, spki] = children(der, infoElement);
    if (!version || !subject || !spki) throw new Error("incomplete request info");
    if (version.tag !== TAG.integer || content(der, version).toString("hex") !== "00") {
      throw new Error("version must be 0 (PKCS#10 v1)");
    }
    const algorithmOid = children(der, algorithm)[0];
    if (!algorithmOid || algorithmOid.tag !== TAG.oid) throw new Error("malformed signature algorithm");
    info = slice(der, infoElement);
    subjectDer = slice(der, subject);
    spkiDer = slice(der, spki);
    signatureOid = oidOf(der, algorithmOid);
    const bitString = content(der, bits);
    if (bitString[0] !== 0) throw new Error("signature has unused bits");
    signature = bitString.subarray(1);
  } catch (error) {
    throw new PkiError(FIELD, `is not a valid PKCS#10 certificate request (${(error as Error).message})`);
  }

  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: spkiDer, format: "der", type: "spki" });
  } catch {
    throw new PkiError(FIELD, "has a public key that cannot be read");
  }
  const weak = weakKeyReason(publicKey);
  if (weak) throw new PkiError(FIELD, weak);

  const scheme = CSR_SIGNATURES[signatureOid];
  if (!scheme) {
    throw new PkiError(
      FIELD,
      `is signed with algorithm ${signatureOid}; accepted are RSA or ECDSA with SHA-256, SHA-384 or SHA-512`,
    );
  }
  let genuine = false;
  try {
    genuine = scheme.keyType === publicKey.asymmetricKeyType && verify(scheme.hash, info, publicKey, signature);
  } catch {
    // A signature that is not even well-formed (e.g. broken ECDSA DER) is simply not genuine.
  }
  if (!genuine) {
    throw new PkiError(FIELD, "signature does not verify: the request was altered or not signed by its own key");
  }

  return { commonName: checkSubject(subjectDer, expectedCommonName), spkiDer, publicKey };
}

function checkSubject(subjectDer: Buffer, expected: string): string {
  let attributes: ReturnType<typeof nameAttributes>;
  try {
    attributes = nameAttributes(subjectDer);
  } catch {
    throw new PkiError(FIELD, "has a malformed subject");
  }
  const [only] = attributes;
  if (attributes.length !== 1 || !only || only.type !== "CN") {
    const found = attributes.length === 0 ? "an empty subject" : `${attributes.map((a) => a.type).join(", ")}`;
    throw new PkiError(FIELD, `subject must be exactly one CN attribute; found ${found}`);
  }
  let value: string | undefined;
  try {
    value = decodeNameString(only);
  } catch {
    throw new PkiError(FIELD, "subject CN is not valid UTF-8");
  }
  if (value === undefined) {
    throw new PkiError(FIELD, "subject CN must be a UTF8String, PrintableString or IA5String");
  }
  if (!isValidCommonName(value)) {
    throw new PkiError(FIELD, `subject CN ${quote(value)} is not allowed: ${COMMON_NAME_RULE}`);
  }
  if (value !== expected) {
    throw new PkiError(FIELD, `subject CN ${quote(value)} does not match the host's common name ${quote(expected)}`);
  }
  return value;
}
