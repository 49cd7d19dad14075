// The certificate authority of a network, as plain functions over PEM strings and buffers:
// no database and no HTTP here. Callers unseal the CA key, call these, and seal what comes back.
export {
  CERTIFICATE_KINDS,
  type CertificateInfo,
  type CertificateKind,
  readCertificate,
} from "./certificate-info.ts";
export { COMMON_NAME_RULE, isValidCommonName } from "./common-name.ts";
export { type CreateCaOptions, type CreatedCa, createCa, MAX_CA_VALIDITY_DAYS } from "./create-ca.ts";
export { createCsr } from "./create-csr.ts";
export { buildCrl, type CrlOptions, REVOCATION_REASONS, type RevocationReason, type RevokedEntry } from "./crl.ts";
export { type ImportedCertificate, type ImportedPki, importEasyRsaPki } from "./easy-rsa-import.ts";
export { type ExpiringRecord, expiringWithin } from "./expiry.ts";
export {
  type IssuedCertificate,
  issueCertificate,
  type LeafOptions,
  MAX_LEAF_VALIDITY_DAYS,
  signCsr,
} from "./issue.ts";
export { KEY_TYPES, type KeyType } from "./keys.ts";
export { loadOrCreateMasterKey, type MasterKey, type MasterKeyOptions } from "./master-key.ts";
export { PkiError } from "./pki-error.ts";
export { seal, unseal } from "./seal.ts";
export { normalizeSerialHex } from "./serial.ts";
export { generateTlsCryptKey, parseTlsCryptKey } from "./tls-crypt-key.ts";
