import { createPrivateKey } from "node:crypto";
import { isIP } from "node:net";
import {
  authorityKeyIdentifierExtension,
  buildCertificate,
  subjectKeyIdentifierExtension,
} from "../pki/certificate-builder.ts";
import { generateKey, keyIdentifier, signAsync, signatureAlgorithmFor } from "../pki/keys.ts";
import { randomSerialHex } from "../pki/serial.ts";
import { validityWindow } from "../pki/validity.ts";

/**
 * Long on purpose: agents pin this exact certificate, so replacing it means enrolling every agent
 * again. Operators who want rotation bring their own certificate (TLS_CERT/TLS_KEY).
 */
export const SELF_SIGNED_VALIDITY_DAYS = 10 * 365;

export interface SelfSignedCertificate {
  certPem: string;
  keyPem: string;
}

/**
 * A certificate for this API that nobody signed: browsers warn once, agents pin its SHA-256
 * fingerprint at enrollment. `names` become its subject alternative names (addresses as IP
 * entries, the rest as DNS names), so a client that checks names as well finds them.
 */
export async function createSelfSignedCertificate(
  names: readonly string[],
  now = new Date(),
): Promise<SelfSignedCertificate> {
  const { keyPem, spkiDer } = await generateKey("ec-p256");
  const key = createPrivateKey(keyPem);
  const id = keyIdentifier(spkiDer);
  const algorithm = signatureAlgorithmFor(key);
  const { notBefore, notAfter } = validityWindow(now, SELF_SIGNED_VALIDITY_DAYS);
  const unique = [...new Set(names)];
  const certPem = await buildCertificate(
    {
      serialHex: randomSerialHex(),
      commonName: `Switchboard API ${unique[0] ?? "localhost"}`.slice(0, 64),
      notBefore,
      notAfter,
      spkiDer,
      extensions: [
        { name: "basicConstraints", cA: false, critical: true },
        { name: "keyUsage", digitalSignature: true, critical: true },
        { name: "extKeyUsage", serverAuth: true },
        {
          name: "subjectAltName",
          altNames: unique.map((name) => (isIP(name) ? { type: 7, ip: name } : { type: 2, value: name })),
        },
        subjectKeyIdentifierExtension(id),
        authorityKeyIdentifierExtension(id),
      ],
    },
    { subjectDer: null, algorithm, sign: (data) => signAsync(algorithm.hash, data, key) },
  );
  return { certPem, keyPem };
}
