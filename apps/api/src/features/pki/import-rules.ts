import { createPrivateKey, X509Certificate } from "node:crypto";
import { badRequest } from "../../http/errors.ts";
import type { ImportedPki } from "../../pki/index.ts";
import { weakKeyReason } from "../../pki/keys.ts";

/**
 * An imported CA signs every certificate the network issues from then on, so it must be in its
 * validity period (an expired one leaves the network unable to issue anything OpenVPN accepts)
 * and hold a key we would accept in any request we certify (RSA of 2048 bits or more, EC
 * P-256/P-384): a weak CA key makes every host and switch certificate as weak as it is.
 */
export function requireUsableCa(ca: ImportedPki["ca"], now = new Date()): void {
  if (ca.notAfter.getTime() <= now.getTime()) {
    throw badRequest("body.caCert", `has expired: it was valid until ${ca.notAfter.toISOString()}`);
  }
  if (ca.notBefore.getTime() > now.getTime()) {
    throw badRequest("body.caCert", `is not valid yet: it is valid from ${ca.notBefore.toISOString()}`);
  }
  const weak = weakKeyReason(createPrivateKey(ca.keyPem));
  if (weak) throw badRequest("body.caKey", weak);
}

/**
 * Certificates the CA issued before the move keep working (hosts migrate without re-keying),
 * but one with a weak key is named in the import's warnings so the operator renews it.
 */
export function weakKeyWarnings(certificates: ImportedPki["certificates"]): string[] {
  const warnings: string[] = [];
  for (const cert of certificates) {
    if (cert.status !== "valid" || !cert.certPem) continue;
    const weak = weakKeyReason(new X509Certificate(cert.certPem).publicKey);
    if (weak) warnings.push(`${cert.commonName} (serial ${cert.serialHex}): ${weak}; renew it`);
  }
  return warnings;
}
