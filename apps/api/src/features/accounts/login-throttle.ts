import type { PrismaClient } from "../../generated/prisma/client.ts";
import { HttpError } from "../../http/error-handler.ts";

/** Failures allowed within the window before a block; each further failure doubles the block. */
const FREE_FAILURES = 5;
const WINDOW_MS = 15 * 60_000;
const FIRST_BLOCK_MS = 30_000;
const MAX_BLOCK_MS = 15 * 60_000;

/**
 * Slows down password guessing per account and per source address. Kept in the database so
 * every API instance sees the same counts.
 */
export function loginThrottle(prisma: PrismaClient) {
  const keysOf = (username: string, address: string) => [`user:${username.toLowerCase()}`, `ip:${address}`];

  return {
    /** Refuses with 429 and "try again in N s" while either key is blocked. */
    async check(username: string, address: string, now = new Date()) {
      const rows = await prisma.loginThrottle.findMany({ where: { key: { in: keysOf(username, address) } } });
      const until = Math.max(0, ...rows.map((r) => r.blockedUntil?.getTime() ?? 0));
      if (until > now.getTime()) {
        const seconds = Math.ceil((until - now.getTime()) / 1000);
        const error = new HttpError(429, `too many failed sign-ins: try again in ${seconds} s`);
        error.retryAfter = seconds;
        throw error;
      }
    },

    async fail(username: string, address: string, now = new Date()) {
      for (const key of keysOf(username, address)) {
        const row = await prisma.loginThrottle.findUnique({ where: { key } });
        const fresh = !row || now.getTime() - row.firstFailureAt.getTime() > WINDOW_MS;
        const failures = fresh ? 1 : row.failures + 1;
        const over = failures - FREE_FAILURES;
        const blockedUntil =
          over > 0 ? new Date(now.getTime() + Math.min(MAX_BLOCK_MS, FIRST_BLOCK_MS * 2 ** (over - 1))) : null;
        await prisma.loginThrottle.upsert({
          where: { key },
          create: { key, failures, firstFailureAt: now, blockedUntil },
          update: { failures, blockedUntil, ...(fresh ? { firstFailureAt: now } : {}) },
        });
      }
    },

    /** A good password clears the account's count (the address keeps its own). */
    async succeed(username: string) {
      await prisma.loginThrottle.deleteMany({ where: { key: `user:${username.toLowerCase()}` } });
    },
  };
}
