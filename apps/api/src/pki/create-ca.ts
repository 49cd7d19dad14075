import { createPrivateKey } from "node:crypto";
import {
  authorityKeyIdentifierExtension,
  buildCertificate,
  subjectKeyIdentifierExtension,
} from "./certificate-builder.ts";
import { assertCaName } from "./common-name.ts";
import { generateKey, KEY_TYPES, type KeyType, keyIdentifier, signAsync, signatureAlgorithmFor } from "./keys.ts";
import { PkiError } from "./pki-error.ts";
import { randomSerialHex } from "./serial.ts";
import { assertValidityDays, validityWindow } from "./validity.ts";

export const MAX_CA_VALIDITY_DAYS = 30 * 365;

export interface CreateCaOptions {
  /** Shown to operators (e.g. "Switchboard office-net CA"); spaces allowed, separators not. */
  commonName: string;
  validityDays: number;
  /** RSA 3072 by default: a CA outlives its leaves, so it gets the stronger key. */
  keyType?: KeyType;
  now?: Date;
}

export interface CreatedCa {
  certPem: string;
  keyPem: string;
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
}

/** A self-signed root for one network: basicConstraints CA:TRUE and keyUsage keyCertSign, cRLSign (both critical). */
export async function createCa(options: CreateCaOptions): Promise<CreatedCa> {
  assertCaName("commonName", options.commonName);
  assertValidityDays("validityDays", options.validityDays, MAX_CA_VALIDITY_DAYS);
  const keyType = options.keyType ?? "rsa-3072";
  if (!KEY_TYPES.includes(keyType)) throw new PkiError("keyType", `must be one of ${KEY_TYPES.join(", ")}`);

  const { keyPem, spkiDer } = await generateKey(keyType);
  const key = createPrivateKey(keyPem);
  const id = keyIdentifier(spkiDer);
  const serialHex = randomSerialHex();
  const { notBefore, notAfter } = validityWindow(options.now ?? new Date(), options.validityDays);
  const algorithm = signatureAlgorithmFor(key);
  const certPem = await buildCertificate(
    {
      serialHex,
      commonName: options.commonName,
      notBefore,
      notAfter,
      spkiDer,
      extensions: [
        { name: "basicConstraints", cA: true, critical: true },
        { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
        subjectKeyIdentifierExtension(id),
        authorityKeyIdentifierExtension(id),
      ],
    },
    { subjectDer: null, algorithm, sign: (data) => signAsync(algorithm.hash, data, key) },
  );
  return { certPem, keyPem, serialHex, notBefore, notAfter };
}
