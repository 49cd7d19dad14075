import { type CaSigner, openCa } from "./ca-signer.ts";
import {
  authorityKeyIdentifierExtension,
  buildCertificate,
  subjectKeyIdentifierExtension,
} from "./certificate-builder.ts";
import { CERTIFICATE_KINDS, type CertificateKind } from "./certificate-info.ts";
import { assertCommonName } from "./common-name.ts";
import { checkCsr } from "./csr.ts";
import { generateKey, KEY_TYPES, type KeyType, keyIdentifier } from "./keys.ts";
import { PkiError } from "./pki-error.ts";
import { randomSerialHex } from "./serial.ts";
import { assertValidityDays, validityWindow } from "./validity.ts";

export const MAX_LEAF_VALIDITY_DAYS = 10 * 365;

export interface LeafOptions {
  caCertPem: string;
  caKeyPem: string;
  commonName: string;
  kind: CertificateKind;
  validityDays: number;
  now?: Date;
}

export interface IssuedCertificate {
  commonName: string;
  kind: CertificateKind;
  certPem: string;
  serialHex: string;
  notBefore: Date;
  /** May be earlier than asked: a certificate never outlives the CA that signed it. */
  notAfter: Date;
}

/** Issues a certificate and the key it certifies (RSA 2048 unless `keyType` says otherwise). */
export async function issueCertificate(
  options: LeafOptions & { keyType?: KeyType },
): Promise<IssuedCertificate & { keyPem: string }> {
  const keyType = options.keyType ?? "rsa-2048";
  if (!KEY_TYPES.includes(keyType)) throw new PkiError("keyType", `must be one of ${KEY_TYPES.join(", ")}`);
  const ca = prepare(options);
  const { keyPem, spkiDer } = await generateKey(keyType);
  return { ...(await sign(ca, options, spkiDer, keyType.startsWith("ec") ? "ec" : "rsa")), keyPem };
}

/** Signs a host's own key: the CSR must be genuine and name exactly `commonName`. */
export async function signCsr(options: LeafOptions & { csrPem: string }): Promise<IssuedCertificate> {
  const ca = prepare(options);
  const csr = checkCsr(options.csrPem, options.commonName);
  return sign(ca, options, csr.spkiDer, csr.publicKey.asymmetricKeyType === "ec" ? "ec" : "rsa");
}

function prepare(options: LeafOptions): CaSigner {
  assertCommonName("commonName", options.commonName);
  if (!CERTIFICATE_KINDS.includes(options.kind)) {
    throw new PkiError("kind", `must be one of ${CERTIFICATE_KINDS.join(", ")}`);
  }
  assertValidityDays("validityDays", options.validityDays, MAX_LEAF_VALIDITY_DAYS);
  const ca = openCa(options.caCertPem, options.caKeyPem);
  const now = options.now ?? new Date();
  if (now > ca.notAfter) {
    throw new PkiError("caCertPem", `expired on ${ca.notAfter.toISOString()}; rotate the network's CA first`);
  }
  return ca;
}

/**
 * Key usage as OpenVPN's `remote-cert-tls` and OpenSSL's sslserver/sslclient purposes expect
 * it: RSA servers encipher the premaster secret (keyEncipherment), EC keys agree on one
 * (keyAgreement); every TLS key signs its handshake (digitalSignature).
 */
function usageExtensions(kind: CertificateKind, keyFamily: "rsa" | "ec"): object[] {
  const serves = kind !== "client";
  const keyUsage = {
    name: "keyUsage",
    critical: true,
    digitalSignature: true,
    keyEncipherment: serves && keyFamily === "rsa",
    keyAgreement: keyFamily === "ec",
  };
  const extKeyUsage = { name: "extKeyUsage", serverAuth: serves, clientAuth: kind !== "server" };
  return [keyUsage, extKeyUsage];
}

async function sign(
  ca: CaSigner,
  options: LeafOptions,
  spkiDer: Buffer,
  keyFamily: "rsa" | "ec",
): Promise<IssuedCertificate> {
  const window = validityWindow(options.now ?? new Date(), options.validityDays);
  const notAfter = new Date(Math.min(window.notAfter.getTime(), ca.notAfter.getTime()));
  const serialHex = randomSerialHex();
  const certPem = await buildCertificate(
    {
      serialHex,
      commonName: options.commonName,
      notBefore: window.notBefore,
      notAfter,
      spkiDer,
      extensions: [
        { name: "basicConstraints", cA: false },
        ...usageExtensions(options.kind, keyFamily),
        subjectKeyIdentifierExtension(keyIdentifier(spkiDer)),
        authorityKeyIdentifierExtension(ca.keyIdentifier),
      ],
    },
    ca,
  );
  return {
    commonName: options.commonName,
    kind: options.kind,
    certPem,
    serialHex,
    notBefore: window.notBefore,
    notAfter,
  };
}
