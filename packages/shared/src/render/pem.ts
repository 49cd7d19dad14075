import { RenderError } from "./errors.ts";

/**
 * Inline blocks (`<ca>...</ca>`) end at the first line that closes the tag, so anything that is
 * not exactly one well-formed block could smuggle directives into a profile. These checks accept
 * only the PEM grammar (labels from an allow-list, base64 lines) and return the canonical text.
 */

export type PemLabel = "CERTIFICATE" | "PRIVATE KEY" | "EC PRIVATE KEY" | "RSA PRIVATE KEY";

export const CERTIFICATE_LABELS: readonly PemLabel[] = ["CERTIFICATE"];
/** Unencrypted keys only: an encrypted one would make OpenVPN prompt for a passphrase. */
export const PRIVATE_KEY_LABELS: readonly PemLabel[] = ["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"];

const BASE64_LINE = /^[A-Za-z0-9+/]{1,76}$/;
const BASE64_LAST_LINE = /^[A-Za-z0-9+/]{0,76}={0,2}$/;
const HEX_LINE = /^[0-9a-f]{32}$/;
const TLS_CRYPT_BEGIN = "-----BEGIN OpenVPN Static key V1-----";
const TLS_CRYPT_END = "-----END OpenVPN Static key V1-----";

function lines(field: string, value: unknown): string[] {
  if (typeof value !== "string") throw new RenderError(field, "must be a string");
  // One trailing newline is how files end; anything else outside the block is refused.
  const body = value.endsWith("\n") ? value.slice(0, -1) : value;
  return body.split("\n");
}

/** Exactly one PEM block with one of `labels`; returned without a trailing newline. */
export function checkPemBlock(field: string, value: unknown, labels: readonly PemLabel[]): string {
  const rows = lines(field, value);
  const rule = `must be exactly one PEM block of type ${labels.join(" or ")}`;
  const label = labels.find((candidate) => rows[0] === `-----BEGIN ${candidate}-----`);
  if (label === undefined || rows.length < 3 || rows[rows.length - 1] !== `-----END ${label}-----`) {
    throw new RenderError(field, rule);
  }
  const base64 = rows.slice(1, -1);
  const last = base64.length - 1;
  const wellFormed = base64.every((row, index) => (index === last ? BASE64_LAST_LINE : BASE64_LINE).test(row));
  if (!wellFormed || base64.join("").length % 4 !== 0 || base64.join("").replace(/=+$/, "").length === 0) {
    throw new RenderError(field, `${rule} (base64 body without headers)`);
  }
  return rows.join("\n");
}

/** An `openvpn --genkey tls-crypt` key; its leading `#` comment lines are dropped. */
export function checkTlsCryptKey(field: string, value: unknown): string {
  const rows = lines(field, value);
  let start = 0;
  while (start < rows.length && /^#[ -;=?-~]*$/.test(rows[start] ?? "")) start++;
  const key = rows.slice(start);
  const ok =
    key.length === 18 &&
    key[0] === TLS_CRYPT_BEGIN &&
    key[17] === TLS_CRYPT_END &&
    key.slice(1, 17).every((row) => HEX_LINE.test(row));
  if (!ok) throw new RenderError(field, "must be one OpenVPN Static key V1 block (16 lines of 32 hex digits)");
  return key.join("\n");
}
