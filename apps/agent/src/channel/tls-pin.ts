import type { PeerCertificate } from "node:tls";

/**
 * The API's certificate as the agent pinned it at enrollment, when the API's certificate is not
 * signed by an authority the system trusts (self-signed). The PEM becomes the only trusted CA for
 * the connection and the fingerprint must match exactly, so a different certificate for the same
 * name is refused before any credential is sent.
 */
export interface CertificatePin {
  readonly certPem: string;
  /** SHA-256 fingerprint as Node prints it: 32 upper-case hex pairs joined by ':'. */
  readonly fingerprint256: string;
}

export function normaliseFingerprint(text: string): string {
  const hex = text
    .replace(/^sha256[:=]?/i, "")
    .replace(/[^0-9a-fA-F]/g, "")
    .toUpperCase();
  return hex.match(/.{2}/g)?.join(":") ?? "";
}

export function pemOf(cert: PeerCertificate): string {
  const base64 = cert.raw
    .toString("base64")
    .replace(/(.{64})/g, "$1\n")
    .replace(/\n$/, "");
  return `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`;
}

/** TLS options that trust only the pinned certificate (and skip the host-name check: the pin is stronger). */
export function pinnedTlsOptions(pin: CertificatePin) {
  const expected = normaliseFingerprint(pin.fingerprint256);
  return {
    ca: [pin.certPem],
    rejectUnauthorized: true,
    checkServerIdentity: (_host: string, cert: PeerCertificate): Error | undefined =>
      normaliseFingerprint(cert.fingerprint256) === expected
        ? undefined
        : new Error(`the API's certificate ${cert.fingerprint256} is not the pinned ${expected}`),
  };
}
