import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A random secret for cookies and tokens: 32 bytes, URL-safe. */
export const newSecret = () => randomBytes(32).toString("base64url");

/** Tokens are stored as SHA-256: they are long random values, so a slow hash adds nothing. */
export const hashSecret = (secret: string) => createHash("sha256").update(secret).digest("hex");

export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
