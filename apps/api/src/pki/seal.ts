import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { PkiError } from "./pki-error.ts";

/**
 * Sealed blob layout, version 1: [0x01][12-byte IV][ciphertext][16-byte GCM tag].
 * The version byte lets a later format (another cipher, a rotated master key id) sit next to
 * old blobs. The additional authenticated data is the version byte plus a context string such
 * as "ca-key:<network id>", so a blob copied into another record or field fails to open instead
 * of yielding a key that belongs elsewhere.
 */
const VERSION = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const MASTER_KEY_BYTES = 32;

function aad(context: string): Buffer {
  return Buffer.concat([Buffer.from([VERSION]), Buffer.from(context, "utf8")]);
}

function checkInputs(masterKey: Buffer, context: string): void {
  if (masterKey.length !== MASTER_KEY_BYTES) throw new PkiError("masterKey", `must be ${MASTER_KEY_BYTES} bytes`);
  if (context.length === 0) throw new PkiError("context", 'must name what is sealed (e.g. "ca-key:<network id>")');
}

/** Encrypts with AES-256-GCM under the master key; a fresh random IV every time. */
export function seal(plaintext: Buffer | string, masterKey: Buffer, context: string): Buffer {
  checkInputs(masterKey, context);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", masterKey, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(context));
  const body = Buffer.concat([
    cipher.update(typeof plaintext === "string" ? Buffer.from(plaintext) : plaintext),
    cipher.final(),
  ]);
  return Buffer.concat([Buffer.from([VERSION]), iv, body, cipher.getAuthTag()]);
}

/** Opens a sealed blob; any wrong key, context or altered byte gives the same PkiError. */
export function unseal(blob: Buffer, masterKey: Buffer, context: string): Buffer {
  checkInputs(masterKey, context);
  if (blob.length < 1 + IV_BYTES + TAG_BYTES) throw new PkiError("sealed", "is too short to be a sealed value");
  if (blob[0] !== VERSION)
    throw new PkiError("sealed", `has format version ${blob[0]}; this build reads version ${VERSION}`);
  const iv = blob.subarray(1, 1 + IV_BYTES);
  const tag = blob.subarray(blob.length - TAG_BYTES);
  const decipher = createDecipheriv("aes-256-gcm", masterKey, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad(context));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(blob.subarray(1 + IV_BYTES, blob.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new PkiError(
      "sealed",
      `cannot be opened: wrong master key, wrong context "${context}", or the data was altered`,
    );
  }
}
