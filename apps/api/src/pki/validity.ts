import { wholeSeconds } from "./certificate-builder.ts";
import { PkiError } from "./pki-error.ts";

const DAY_MS = 86_400_000;
/**
 * Certificates start a few minutes in the past: a switch whose clock runs slightly behind the
 * API would otherwise refuse a brand-new certificate as not yet valid.
 */
export const BACKDATE_MS = 5 * 60_000;

export function assertValidityDays(field: string, days: number, max: number): void {
  if (!Number.isInteger(days) || days < 1 || days > max) {
    throw new PkiError(field, `${days} is not allowed: must be a whole number of days from 1 to ${max}`);
  }
}

export function validityWindow(now: Date, days: number): { notBefore: Date; notAfter: Date } {
  return {
    notBefore: wholeSeconds(new Date(now.getTime() - BACKDATE_MS)),
    notAfter: wholeSeconds(new Date(now.getTime() + days * DAY_MS)),
  };
}
