import { randomBytes } from "node:crypto";
import { PkiError, quote } from "./pki-error.ts";

/**
 * Serials are written the way OpenSSL writes them in index.txt and `openssl x509 -serial`:
 * uppercase hex of the integer's magnitude, two digits per byte, no leading zero bytes
 * ("0A1B", not "A1B" or "000A1B"). Every serial that enters or leaves this module uses it, so
 * serials from easy-rsa and from us compare as plain strings.
 */
export function normalizeSerialHex(field: string, value: string): string {
  const digits = value.replace(/^0x/i, "").replaceAll(":", "");
  if (!/^[0-9A-Fa-f]{1,40}$/.test(digits)) {
    throw new PkiError(field, `${quote(value)} is not a serial number: expected 1 to 40 hex digits`);
  }
  const trimmed = digits.replace(/^0+/, "").toUpperCase();
  if (trimmed === "") return "00";
  return trimmed.length % 2 === 1 ? `0${trimmed}` : trimmed;
}

/**
 * 16 random bytes as RFC 5280 allows (at most 20 octets, positive). The top bit is cleared so
 * the INTEGER is positive without padding, and bit 6 is set so every serial is exactly 16 bytes
 * long; that leaves 126 random bits, which makes a collision within one CA practically
 * impossible. The database still keeps a unique index per CA as the final word.
 */
export function randomSerialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x40;
  return bytes.toString("hex").toUpperCase();
}

/** The INTEGER magnitude of a normalized serial. */
export function serialBytes(serialHex: string): Buffer {
  return Buffer.from(serialHex, "hex");
}
