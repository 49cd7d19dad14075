import { createCipheriv, createDecipheriv, randomBytes, scrypt } from "node:crypto";

/**
 * A file encrypted with a passphrase: scrypt (N=2^15, r=8, p=1: ~100 ms and 32 MiB a guess) derives
 * an AES-256-GCM key. Layout: magic, 16-byte salt, 12-byte nonce, ciphertext, 16-byte tag. The
 * magic and salt are authenticated too, so no header byte can be changed unnoticed.
 */
export const BOX_MAGIC = Buffer.from("SWITCHBOARD-ENCRYPTED-BACKUP-1\n", "ascii");
const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
export const PASSPHRASE_MIN = 12;

function deriveKey(passphrase: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize("NFC"), salt, 32, SCRYPT, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

export function isBoxed(file: Buffer): boolean {
  return file.subarray(0, BOX_MAGIC.length).equals(BOX_MAGIC);
}

export async function box(plaintext: Buffer, passphrase: string): Promise<Buffer> {
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", await deriveKey(passphrase, salt), nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.concat([BOX_MAGIC, salt]));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([BOX_MAGIC, salt, nonce, body, cipher.getAuthTag()]);
}

/** Undefined when the passphrase is wrong or any byte was changed (GCM cannot tell which). */
export async function unbox(file: Buffer, passphrase: string): Promise<Buffer | undefined> {
  const start = BOX_MAGIC.length;
  if (!isBoxed(file) || file.length < start + SALT_BYTES + NONCE_BYTES + TAG_BYTES) return undefined;
  const salt = file.subarray(start, start + SALT_BYTES);
  const nonce = file.subarray(start + SALT_BYTES, start + SALT_BYTES + NONCE_BYTES);
  const decipher = createDecipheriv("aes-256-gcm", await deriveKey(passphrase, salt), nonce, {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(Buffer.concat([BOX_MAGIC, salt]));
  decipher.setAuthTag(file.subarray(file.length - TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(file.subarray(start + SALT_BYTES + NONCE_BYTES, file.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    return undefined;
  }
}
