import { createPublicKey } from "node:crypto";
import forge from "node-forge";
import { readPrivateKey } from "./ca-signer.ts";
import { commonNameSubject } from "./certificate-builder.ts";
import { assertCommonName } from "./common-name.ts";
import { encodeSigned, toPem } from "./der.ts";
import { signAsync, signatureAlgorithmFor, weakKeyReason } from "./keys.ts";
import { PkiError } from "./pki-error.ts";

const { asn1 } = forge;

// Not in forge's type definitions.
const getCertificationRequestInfo = (
  forge.pki as unknown as { getCertificationRequestInfo(csr: forge.pki.CertificateSigningRequest): forge.asn1.Asn1 }
).getCertificationRequestInfo;

/**
 * A PKCS#10 request for `commonName` signed by `keyPem`: what a switch or host that keeps its
 * own key sends instead of receiving one. Layout by forge, signature native (as for certificates).
 */
export async function createCsr(options: { commonName: string; keyPem: string }): Promise<string> {
  assertCommonName("commonName", options.commonName);
  const key = readPrivateKey(options.keyPem, "keyPem");
  const weak = weakKeyReason(key);
  if (weak) throw new PkiError("keyPem", weak);
  const spkiDer = createPublicKey(key).export({ type: "spki", format: "der" });

  const csr = forge.pki.createCertificationRequest();
  csr.setSubject(commonNameSubject(options.commonName));
  // forge only models RSA keys: give it a placeholder and splice in the real key afterwards.
  csr.publicKey = forge.pki.setRsaPublicKey(new forge.jsbn.BigInteger("3"), new forge.jsbn.BigInteger("3"));
  const info = getCertificationRequestInfo(csr);
  (info.value as forge.asn1.Asn1[])[2] = asn1.fromDer(spkiDer.toString("binary"));
  const infoDer = Buffer.from(asn1.toDer(info).getBytes(), "binary");

  const algorithm = signatureAlgorithmFor(key);
  const signature = await signAsync(algorithm.hash, infoDer, key);
  return toPem("CERTIFICATE REQUEST", encodeSigned(infoDer, algorithm.identifier, signature));
}
