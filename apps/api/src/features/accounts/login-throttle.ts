import { inTransaction } from "../../db/transactions.ts";
import { Prisma, type PrismaClient } from "../../generated/prisma/client.ts";
import { HttpError } from "../../http/error-handler.ts";
import { throttleSource } from "./throttle-source.ts";

/** Attempts allowed per counter within the window; each attempt after that waits twice as long as the last. */
export const FREE_ATTEMPTS = 5;
export const WINDOW_MS = 15 * 60_000;
const FIRST_BLOCK_MS = 30_000;
const MAX_BLOCK_MS = 15 * 60_000;
/** A source that signed in to an account this recently is that account's known source. */
const KNOWN_SOURCE_MS = 90 * 86_400_000;
/** Failed sign-ins with unknown user names: at most this many audit rows per window, then one note. */
export const ANONYMOUS_AUDIT_ROWS = 30;
const CLEAN_UP_EVERY_MS = 60_000;

/**
 * What an attempt was counted against: its (account, source) pair, plus the account-wide and
 * source-wide counters unless the pair is a known one. Hand it back on success.
 */
export interface Attempt {
  readonly pair: string;
  readonly shared: readonly string[];
}

/** Sign-in asks all three counters; a signed-in user changing a password only its pair. */
export type AttemptKind = "sign-in" | "password";

/** What to audit for a failure with an unknown user name. */
export type AnonymousAudit = "record" | "record-suppression" | "skip";

function blockMs(attempts: number): number | null {
  if (attempts < FREE_ATTEMPTS) return null;
  return Math.min(MAX_BLOCK_MS, FIRST_BLOCK_MS * 2 ** (attempts - FREE_ATTEMPTS));
}

function tooMany(untilMs: number, nowMs: number): HttpError {
  const seconds = Math.max(1, Math.ceil((untilMs - nowMs) / 1000));
  const error = new HttpError(429, `too many failed sign-ins: try again in ${seconds} s`);
  error.retryAfter = seconds;
  return error;
}

/**
 * Slows password guessing without letting anyone lock a user out. Every attempt is counted
 * before the password is checked (so parallel guesses cannot all slip past a check made before
 * any of them failed), under row locks, against:
 *   - its (account, source) pair, always;
 *   - the account and the source, unless that source signed in to that account before: failures
 *     from elsewhere then cannot block the user's own known address.
 * A correct password clears its pair and takes its own count back from the shared counters.
 * Sources are counted per IPv6 /64 (throttle-source.ts). Kept in the database, so every API
 * instance counts together.
 */
export function loginThrottle(prisma: PrismaClient) {
  let lastCleanUp = 0;

  async function cleanUp(now: Date): Promise<void> {
    if (now.getTime() - lastCleanUp < CLEAN_UP_EVERY_MS) return;
    lastCleanUp = now.getTime();
    const windowAgo = new Date(now.getTime() - WINDOW_MS);
    await prisma.loginThrottle.deleteMany({
      where: {
        firstFailureAt: { lt: windowAgo },
        OR: [{ blockedUntil: null }, { blockedUntil: { lt: windowAgo } }],
        AND: [{ OR: [{ lastSuccessAt: null }, { lastSuccessAt: { lt: new Date(now.getTime() - KNOWN_SOURCE_MS) } }] }],
      },
    });
  }

  return {
    /** Counts one attempt, or refuses it with 429 "try again in N s" while a counter it needs is blocked. */
    async attempt(username: string, address: string | undefined, kind: AttemptKind, now = new Date()) {
      void cleanUp(now).catch(() => undefined);
      const user = username.toLowerCase();
      const source = throttleSource(address);
      const pair = `pair:${user} ${source}`;
      return inTransaction(prisma, async (tx): Promise<Attempt> => {
        // The pair first, then the shared counters in key order: every attempt locks in the same order.
        const lock = async (keys: string[]) => {
          const values = Prisma.join(keys.map((key) => Prisma.sql`(${key}, 0, ${now.toISOString()}::timestamptz)`));
          await tx.$executeRaw`INSERT INTO "LoginThrottle" ("key", "failures", "firstFailureAt") VALUES ${values} ON CONFLICT ("key") DO NOTHING`;
          await tx.$queryRaw`SELECT "key" FROM "LoginThrottle" WHERE "key" IN (${Prisma.join(keys)}) ORDER BY "key" FOR UPDATE`;
          return tx.loginThrottle.findMany({ where: { key: { in: keys } } });
        };
        const [pairRow] = await lock([pair]);
        const known =
          pairRow?.lastSuccessAt != null && now.getTime() - pairRow.lastSuccessAt.getTime() < KNOWN_SOURCE_MS;
        const shared = kind === "sign-in" && !known ? [`ip:${source}`, `user:${user}`].sort() : [];
        const rows = [...(pairRow ? [pairRow] : []), ...(shared.length > 0 ? await lock(shared) : [])];
        const blockedUntil = Math.max(0, ...rows.map((row) => row.blockedUntil?.getTime() ?? 0));
        if (blockedUntil > now.getTime()) throw tooMany(blockedUntil, now.getTime());
        for (const row of rows) {
          // A counter starts over after a quiet window (measured from its last block, if any).
          const since = Math.max(row.firstFailureAt.getTime(), row.blockedUntil?.getTime() ?? 0);
          const fresh = row.failures === 0 || now.getTime() - since > WINDOW_MS;
          const attempts = fresh ? 1 : row.failures + 1;
          const block = blockMs(attempts);
          await tx.loginThrottle.update({
            where: { key: row.key },
            data: {
              failures: attempts,
              blockedUntil: block === null ? null : new Date(now.getTime() + block),
              ...(fresh ? { firstFailureAt: now } : {}),
            },
          });
        }
        return { pair, shared };
      });
    },

    /** The password was right: the pair starts over and becomes known; the shared counters give back this attempt. */
    async succeed(attempt: Attempt, now = new Date()) {
      await prisma.loginThrottle.updateMany({
        where: { key: attempt.pair },
        data: { failures: 0, blockedUntil: null, lastSuccessAt: now },
      });
      if (attempt.shared.length === 0) return;
      await prisma.$executeRaw`
        UPDATE "LoginThrottle"
        SET "failures" = GREATEST("failures" - 1, 0),
            "blockedUntil" = CASE WHEN "failures" - 1 < ${FREE_ATTEMPTS} THEN NULL ELSE "blockedUntil" END
        WHERE "key" IN (${Prisma.join(attempt.shared)})`;
    },

    /**
     * Failures with a user name nobody has cost an attacker nothing but an address, so their
     * audit rows are capped per window (one statement counts, so parallel requests cannot all
     * pass): the first ANONYMOUS_AUDIT_ROWS are recorded, the next one as a note that the rest are not.
     */
    async anonymousAudit(now = new Date()): Promise<AnonymousAudit> {
      const windowStart = new Date(now.getTime() - WINDOW_MS).toISOString();
      const rows = await prisma.$queryRaw<{ failures: number }[]>`
        INSERT INTO "LoginThrottle" ("key", "failures", "firstFailureAt")
        VALUES ('audit:unknown-user', 1, ${now.toISOString()}::timestamptz)
        ON CONFLICT ("key") DO UPDATE SET
          "failures" = CASE WHEN "LoginThrottle"."firstFailureAt" < ${windowStart}::timestamptz
            THEN 1 ELSE "LoginThrottle"."failures" + 1 END,
          "firstFailureAt" = CASE WHEN "LoginThrottle"."firstFailureAt" < ${windowStart}::timestamptz
            THEN EXCLUDED."firstFailureAt" ELSE "LoginThrottle"."firstFailureAt" END
        RETURNING "failures"`;
      const count = Number(rows[0]?.failures ?? 0);
      if (count <= ANONYMOUS_AUDIT_ROWS) return "record";
      return count === ANONYMOUS_AUDIT_ROWS + 1 ? "record-suppression" : "skip";
    },
  };
}

export type LoginThrottle = ReturnType<typeof loginThrottle>;
