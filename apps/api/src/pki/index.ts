// The certificate authority of a network, as plain functions over PEM strings and buffers:
// no database and no HTTP here. Callers unseal the CA key, call these, and seal what comes back.
export { type CertificateInfo, type CertificateKind, readCertificate } from "./certificate-info.ts";
export { type CreateCaOptions, type CreatedCa, createCa } from "./create-ca.ts";
export { createCsr } from "./create-csr.ts";
export { buildCrl, type CrlOptions, REVOCATION_REASONS, type RevocationReason, type RevokedEntry } from "./crl.ts";
export { type ImportedCertificate, type ImportedPki, importEasyRsaPki } from "./easy-rsa-import.ts";
export { type ExpiringRecord, expiringWithin } from "./expiry.ts";
export { type IssuedCertificate, issueCertificate, type LeafOptions, signCsr } from "./issue.ts";
export type { KeyType } from "./keys.ts";
export { loadOrCreateMasterKey, type MasterKey, type MasterKeyOptions } from "./master-key.ts";
export { PkiError } from "./pki-error.ts";
export { seal, unseal } from "./seal.ts";
export { normalizeSerialHex } from "./serial.ts";
export { generateTlsCryptKey, parseTlsCryptKey } from "./tls-crypt-key.ts";
