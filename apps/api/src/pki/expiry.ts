import { PkiError } from "./pki-error.ts";

const DAY_MS = 86_400_000;

export interface ExpiringRecord {
  notAfter: Date;
  /** Revoked certificates need no renewal and are left out. */
  revokedAt?: Date | null | undefined;
}

/**
 * Certificates whose notAfter falls within the next `days` days, soonest first. Already expired
 * ones are included: they are the most urgent to renew, not the least.
 */
export function expiringWithin<T extends ExpiringRecord>(records: readonly T[], days: number, now = new Date()): T[] {
  if (!Number.isFinite(days) || days < 0) throw new PkiError("days", "must be a number of days, 0 or more");
  const limit = now.getTime() + days * DAY_MS;
  return records
    .filter((record) => !record.revokedAt && record.notAfter.getTime() <= limit)
    .sort((a, b) => a.notAfter.getTime() - b.notAfter.getTime());
}
