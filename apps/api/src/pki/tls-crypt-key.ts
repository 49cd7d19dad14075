import { randomBytes } from "node:crypto";
import { PkiError } from "./pki-error.ts";

const BEGIN = "-----BEGIN OpenVPN Static key V1-----";
const END = "-----END OpenVPN Static key V1-----";
/** OpenVPN's static key file holds 2048 bits: two 512-bit cipher keys and two 512-bit HMAC keys. */
export const TLS_CRYPT_KEY_BYTES = 256;

/** A fresh key in the file format `openvpn --genkey tls-crypt` writes and `--tls-crypt` reads. */
export function generateTlsCryptKey(): string {
  return formatTlsCryptKey(randomBytes(TLS_CRYPT_KEY_BYTES));
}

export function formatTlsCryptKey(key: Buffer): string {
  if (key.length !== TLS_CRYPT_KEY_BYTES) throw new PkiError("tlsCryptKey", `must be ${TLS_CRYPT_KEY_BYTES} bytes`);
  const lines = key.toString("hex").match(/.{32}/g) ?? [];
  return ["#", "# 2048 bit OpenVPN static key", "#", BEGIN, ...lines, END, ""].join("\n");
}

/**
 * Reads the static key format strictly: comment and blank lines are allowed around the block
 * (OpenVPN writes a comment header), inside it exactly 16 lines of 32 hex digits. Anything else
 * is refused, so a truncated paste never reaches a switch, where OpenVPN would refuse to start.
 */
export function parseTlsCryptKey(text: string, field = "tlsCryptKey"): Buffer {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  const begin = lines.indexOf(BEGIN);
  const end = lines.indexOf(END);
  if (begin === -1 || end === -1 || end < begin) {
    throw new PkiError(field, `must contain an OpenVPN static key between "${BEGIN}" and "${END}"`);
  }
  const outside = [...lines.slice(0, begin), ...lines.slice(end + 1)];
  if (outside.some((line) => line !== "" && !line.startsWith("#"))) {
    throw new PkiError(field, "may only have comment lines (starting with #) outside the key block");
  }
  const body = lines.slice(begin + 1, end);
  if (body.length !== 16 || body.some((line) => !/^[0-9a-fA-F]{32}$/.test(line))) {
    throw new PkiError(field, "key block must be exactly 16 lines of 32 hex digits (256 bytes)");
  }
  return Buffer.from(body.join(""), "hex");
}
