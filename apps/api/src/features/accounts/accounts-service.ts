import { hash, verify } from "@node-rs/argon2";
import type {
  ApiToken,
  ApiTokenCreate,
  AuditPage,
  AuditQuery,
  Login,
  Role,
  Setup,
  User,
  UserUpdate,
} from "@switchboard/shared";
import { covers } from "../../auth/access.ts";
import { type Identity, type SessionSettings, TOKEN_PREFIX, type TokenCache } from "../../auth/identity.ts";
import { hashSecret, newSecret, sameSecret } from "../../auth/secrets.ts";
import { afterCommit, inTransaction } from "../../db/transactions.ts";
import type { ApiToken as ApiTokenRow, PrismaClient, User as UserRow } from "../../generated/prisma/client.ts";
import { decodeCursor, encodeCursor } from "../../http/cursor.ts";
import { HttpError } from "../../http/error-handler.ts";
import { badRequest, conflict, notFound } from "../../http/errors.ts";
import { type AuditContext, recordAudit } from "../audit/audit-log.ts";
import { ANONYMOUS_AUDIT_ROWS, loginThrottle, WINDOW_MS } from "./login-throttle.ts";

const DAY_MS = 86_400_000;
/** argon2id, algorithm 2 in @node-rs/argon2; its defaults follow OWASP's minimums (19 MiB, t=2). */
const ARGON2ID = 2;
/** A hash to verify against when the user does not exist, so timing does not reveal usernames. */
const DUMMY_HASH = hash("not a real password", { algorithm: ARGON2ID });

export const toUser = (row: UserRow): User => ({
  id: row.id,
  username: row.username,
  role: row.role,
  createdAt: row.createdAt.toISOString(),
  disabledAt: row.disabledAt?.toISOString() ?? null,
});

export const toApiToken = (row: ApiTokenRow): ApiToken => ({
  id: row.id,
  name: row.name,
  prefix: row.prefix,
  role: row.role,
  userId: row.userId,
  createdAt: row.createdAt.toISOString(),
  expiresAt: row.expiresAt?.toISOString() ?? null,
  lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  revokedAt: row.revokedAt?.toISOString() ?? null,
});

/** Tokens live 90 days unless asked otherwise; admin tokens never longer (no everlasting admin key). */
const DEFAULT_TOKEN_DAYS = 90;
export const MAX_ADMIN_TOKEN_DAYS = 90;

export interface NewLogin {
  cookieValue: string;
  csrfToken: string;
  user: User;
  expiresAt: Date;
}

export function accountsService(prisma: PrismaClient, sessions: SessionSettings, tokenCache: TokenCache) {
  const throttle = loginThrottle(prisma);

  async function startSession(
    user: UserRow,
    origin: { sourceAddress?: string; userAgent?: string },
  ): Promise<NewLogin> {
    const cookieValue = newSecret();
    const csrfToken = newSecret();
    const expiresAt = new Date(Date.now() + sessions.absoluteTimeoutMs);
    await prisma.loginSession.create({
      data: {
        tokenHash: hashSecret(cookieValue),
        userId: user.id,
        csrfToken,
        expiresAt,
        sourceAddress: origin.sourceAddress ?? null,
        userAgent: origin.userAgent?.slice(0, 300) ?? null,
      },
    });
    return { cookieValue, csrfToken, user: toUser(user), expiresAt };
  }

  return {
    async setupNeeded(): Promise<boolean> {
      return (await prisma.user.count()) === 0;
    },

    /** Creates the first admin, once, with the one-time token printed at start. */
    async setup(
      input: Setup,
      expectedToken: string | undefined,
      audit: AuditContext,
      origin: { sourceAddress?: string; userAgent?: string },
    ) {
      if (!expectedToken || !sameSecret(input.token, expectedToken))
        throw new HttpError(403, "body.token is not this server's setup token");
      const passwordHash = await hash(input.password, { algorithm: ARGON2ID });
      const user = await inTransaction(prisma, async (tx) => {
        await tx.$queryRaw`SELECT pg_advisory_xact_lock(${0x5b_0a_2d_03})::text`;
        if ((await tx.user.count()) > 0) throw conflict("setup", "is done: an administrator exists, sign in instead");
        const created = await tx.user.create({ data: { username: input.username, passwordHash, role: "admin" } });
        await recordAudit(
          tx,
          { ...audit, actorType: "user", actorId: created.id, actorName: created.username },
          {
            action: "user.setup",
            targetType: "user",
            targetId: created.id,
            summary: { username: created.username, role: "admin" },
          },
        );
        return created;
      });
      return startSession(user, origin);
    },

    async login(input: Login, audit: AuditContext, origin: { sourceAddress?: string; userAgent?: string }) {
      const attempt = await throttle.attempt(input.username, origin.sourceAddress, "sign-in");
      const user = await prisma.user.findUnique({ where: { username: input.username } });
      // An unknown user costs a hash check too, so timing does not tell which usernames exist.
      const ok = await verify(user?.passwordHash ?? (await DUMMY_HASH), input.password);
      if (!user || !ok || user.disabledAt) {
        // Failures on real accounts are bounded by the throttle; made-up names are not, so their rows are capped.
        const verdict = user ? "record" : await throttle.anonymousAudit();
        if (verdict !== "skip") {
          await inTransaction(prisma, (tx) =>
            recordAudit(
              tx,
              audit,
              verdict === "record"
                ? {
                    action: "session.login-failed",
                    targetType: "user",
                    summary: { username: input.username.slice(0, 64) },
                  }
                : {
                    action: "session.login-failed-suppressed",
                    targetType: "user",
                    summary: {
                      reason: `more than ${ANONYMOUS_AUDIT_ROWS} failed sign-ins with unknown user names within ${WINDOW_MS / 60_000} minutes: the rest of them are not recorded`,
                    },
                  },
            ),
          );
        }
        throw new HttpError(401, "wrong username or password");
      }
      await throttle.succeed(attempt);
      const login = await startSession(user, origin);
      await inTransaction(prisma, (tx) =>
        recordAudit(
          tx,
          { ...audit, actorType: "user", actorId: user.id, actorName: user.username },
          {
            action: "session.login",
            targetType: "user",
            targetId: user.id,
          },
        ),
      );
      return login;
    },

    async session(identity: Identity) {
      if (identity.kind !== "user" || !identity.sessionId)
        throw new HttpError(400, "API tokens have no console session");
      const session = await prisma.loginSession.findUniqueOrThrow({
        where: { id: identity.sessionId },
        include: { user: true },
      });
      return {
        user: toUser(session.user),
        csrfToken: session.csrfToken,
        expiresAt: session.expiresAt.toISOString(),
        idleTimeoutSeconds: Math.round(sessions.idleTimeoutMs / 1000),
      };
    },

    async logout(identity: Identity, everywhere: boolean, audit: AuditContext) {
      if (identity.kind !== "user")
        throw new HttpError(400, "API tokens have no console session; revoke the token instead");
      await inTransaction(prisma, async (tx) => {
        const where = everywhere ? { userId: identity.id } : { id: identity.sessionId ?? "" };
        const { count } = await tx.loginSession.deleteMany({ where });
        await recordAudit(tx, audit, {
          action: everywhere ? "session.logout-everywhere" : "session.logout",
          targetType: "user",
          targetId: identity.id,
          summary: { sessions: count },
        });
      });
    },

    async listUsers(): Promise<User[]> {
      return (await prisma.user.findMany({ orderBy: { username: "asc" } })).map(toUser);
    },

    async createUser(input: { username: string; password: string; role: Role }, audit: AuditContext): Promise<User> {
      const passwordHash = await hash(input.password, { algorithm: ARGON2ID });
      return inTransaction(prisma, async (tx) => {
        if (await tx.user.findUnique({ where: { username: input.username } }))
          throw conflict("body.username", "is already taken");
        const row = await tx.user.create({ data: { username: input.username, passwordHash, role: input.role } });
        await recordAudit(tx, audit, {
          action: "user.create",
          targetType: "user",
          targetId: row.id,
          summary: { username: row.username, role: row.role },
        });
        return toUser(row);
      });
    },

    async updateUser(id: string, patch: UserUpdate, audit: AuditContext): Promise<User> {
      const passwordHash = patch.password ? await hash(patch.password, { algorithm: ARGON2ID }) : undefined;
      return inTransaction(prisma, async (tx) => {
        const before = await tx.user.findUnique({ where: { id } });
        if (!before) throw notFound("user", id);
        const losesAdmin =
          before.role === "admin" && ((patch.role && patch.role !== "admin") || patch.disabled === true);
        if (
          losesAdmin &&
          (await tx.user.count({ where: { role: "admin", disabledAt: null, id: { not: id } } })) === 0
        ) {
          throw conflict("body", "would leave no active administrator");
        }
        const row = await tx.user.update({
          where: { id },
          data: {
            ...(patch.role ? { role: patch.role } : {}),
            ...(passwordHash ? { passwordHash } : {}),
            ...(patch.disabled !== undefined ? { disabledAt: patch.disabled ? new Date() : null } : {}),
          },
        });
        // A new password or a disabled account ends every session of that user.
        if (passwordHash || patch.disabled) await tx.loginSession.deleteMany({ where: { userId: id } });
        // Disabled or demoted: the tokens they made stop at once, not when they expire.
        const demoted = !covers(row.role, before.role);
        const revokedTokens =
          patch.disabled || demoted
            ? (
                await tx.apiToken.updateMany({
                  where: { userId: id, revokedAt: null },
                  data: { revokedAt: new Date() },
                })
              ).count
            : 0;
        await recordAudit(tx, audit, {
          action: "user.update",
          targetType: "user",
          targetId: id,
          summary: {
            before: { role: before.role, disabled: Boolean(before.disabledAt) },
            after: { role: row.role, disabled: Boolean(row.disabledAt) },
            passwordChanged: Boolean(passwordHash),
            revokedTokens,
          },
        });
        if (revokedTokens) tokenCache.clear();
        return toUser(row);
      });
    },

    async changeOwnPassword(identity: Identity, current: string, next: string, audit: AuditContext) {
      if (identity.kind !== "user") throw new HttpError(400, "API tokens have no password");
      const user = await prisma.user.findUniqueOrThrow({ where: { id: identity.id } });
      // A stolen session must not become a way to guess the password: same pair counter as sign-in.
      const attempt = await throttle.attempt(user.username, audit.sourceAddress, "password");
      if (!(await verify(user.passwordHash, current))) {
        await inTransaction(prisma, (tx) =>
          recordAudit(tx, audit, { action: "user.password-failed", targetType: "user", targetId: user.id }),
        );
        throw new HttpError(400, "body.currentPassword is wrong");
      }
      await throttle.succeed(attempt);
      const passwordHash = await hash(next, { algorithm: ARGON2ID });
      await inTransaction(prisma, async (tx) => {
        await tx.user.update({ where: { id: user.id }, data: { passwordHash } });
        await tx.loginSession.deleteMany({ where: { userId: user.id, id: { not: identity.sessionId ?? "" } } });
        await recordAudit(tx, audit, { action: "user.password", targetType: "user", targetId: user.id });
      });
    },

    async deleteUser(id: string, audit: AuditContext) {
      await inTransaction(prisma, async (tx) => {
        const user = await tx.user.findUnique({ where: { id } });
        if (!user) throw notFound("user", id);
        if (
          user.role === "admin" &&
          (await tx.user.count({ where: { role: "admin", disabledAt: null, id: { not: id } } })) === 0
        ) {
          throw conflict("user", "is the last active administrator");
        }
        await tx.user.delete({ where: { id } });
        await recordAudit(tx, audit, {
          action: "user.delete",
          targetType: "user",
          targetId: id,
          summary: { username: user.username },
        });
      });
    },

    async listTokens(): Promise<ApiToken[]> {
      return (await prisma.apiToken.findMany({ orderBy: { createdAt: "desc" } })).map(toApiToken);
    },

    /** A token never outranks the one who creates it; the secret is returned once and stored hashed. */
    async createToken(input: ApiTokenCreate, creator: Identity, audit: AuditContext) {
      // A stolen token must not be able to mint itself a successor that outlives its revocation.
      if (creator.kind !== "user")
        throw new HttpError(403, "API tokens are created by a signed-in user, not by a token");
      if (!covers(creator.role, input.role))
        throw new HttpError(403, `body.role ${input.role} is above your own role ${creator.role}`);
      const days = input.expiresInDays === undefined ? DEFAULT_TOKEN_DAYS : input.expiresInDays;
      if (input.role === "admin" && (days === null || days > MAX_ADMIN_TOKEN_DAYS)) {
        throw badRequest("body.expiresInDays", `must be at most ${MAX_ADMIN_TOKEN_DAYS} for an admin token`);
      }
      const secret = `${TOKEN_PREFIX}${newSecret()}`;
      return inTransaction(prisma, async (tx) => {
        const row = await tx.apiToken.create({
          data: {
            name: input.name,
            tokenHash: hashSecret(secret),
            prefix: secret.slice(0, 10),
            role: input.role,
            userId: creator.userId,
            expiresAt: days === null ? null : new Date(Date.now() + days * DAY_MS),
          },
        });
        await recordAudit(tx, audit, {
          action: "token.create",
          targetType: "api-token",
          targetId: row.id,
          summary: { name: row.name, role: row.role, expiresAt: row.expiresAt?.toISOString() ?? null },
        });
        return { token: secret, apiToken: toApiToken(row) };
      });
    },

    async revokeToken(id: string, audit: AuditContext): Promise<ApiToken> {
      return inTransaction(prisma, async (tx) => {
        const row = await tx.apiToken.findUnique({ where: { id } });
        if (!row) throw notFound("API token", id);
        if (row.revokedAt) throw conflict("token", "is already revoked");
        const revoked = await tx.apiToken.update({ where: { id }, data: { revokedAt: new Date() } });
        tokenCache.clear();
        // Again once committed: a lookup that ran in between still read the token as valid.
        afterCommit(tx, () => tokenCache.clear());
        await recordAudit(tx, audit, {
          action: "token.revoke",
          targetType: "api-token",
          targetId: id,
          summary: { name: row.name },
        });
        return toApiToken(revoked);
      });
    },

    async audit(query: AuditQuery): Promise<AuditPage> {
      const limit = query.limit ?? 50;
      const cursor = query.cursor ? decodeCursor(query.cursor, { id: "integer" }) : undefined;
      const rows = await prisma.auditEvent.findMany({
        where: {
          ...(query.action ? { action: query.action } : {}),
          ...(query.targetType ? { targetType: query.targetType } : {}),
          ...(query.targetId ? { targetId: query.targetId } : {}),
          ...(query.actorName ? { actorName: query.actorName } : {}),
          ...(query.from || query.to
            ? {
                at: {
                  ...(query.from ? { gte: new Date(query.from) } : {}),
                  ...(query.to ? { lte: new Date(query.to) } : {}),
                },
              }
            : {}),
          ...(cursor ? { id: { lt: BigInt(cursor.id) } } : {}),
        },
        orderBy: { id: "desc" },
        take: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((row) => ({
          id: row.id.toString(),
          at: row.at.toISOString(),
          actorType: row.actorType,
          actorId: row.actorId,
          actorName: row.actorName,
          action: row.action,
          targetType: row.targetType,
          targetId: row.targetId,
          summary: row.summary,
          requestId: row.requestId,
          sourceAddress: row.sourceAddress,
        })),
        nextCursor: rows.length > limit && last ? encodeCursor({ value: "", id: last.id.toString() }) : null,
      };
    },
  };
}

export type AccountsService = ReturnType<typeof accountsService>;
