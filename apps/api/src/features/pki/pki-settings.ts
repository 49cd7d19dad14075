import type { KeyType } from "../../pki/index.ts";

/** How the API's certificate authority works; main.ts builds it from the environment. */
export interface PkiSettings {
  /** 32 bytes that seal every private key at rest (AES-256-GCM). */
  masterKey: Buffer;
  caKeyType: KeyType;
  /** Keys generated here for switches and hosts (a host may keep its own with a CSR). */
  leafKeyType: KeyType;
  caValidityDays: number;
  leafValidityDays: number;
  /**
   * The most days a caller may ask for (body.validityDays on issue and renew): a long-lived
   * certificate outlives the people and machines that should lose access, and no CRL reaches a
   * copy of a profile that sits somewhere unused.
   */
  maxValidityDays: number;
  /** OpenVPN refuses every client once the CRL passes nextUpdate: it is republished well before. */
  crlValidityDays: number;
}

export const DEFAULT_PKI = {
  caKeyType: "rsa-3072",
  leafKeyType: "rsa-2048",
  caValidityDays: 3650,
  leafValidityDays: 825,
  maxValidityDays: 825,
  crlValidityDays: 30,
} as const satisfies Omit<PkiSettings, "masterKey">;

/** A CRL is republished once less than this share of its validity is left. */
export const CRL_REFRESH_SHARE = 1 / 3;
