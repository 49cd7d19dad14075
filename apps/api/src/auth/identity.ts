import type { FastifyRequest } from "fastify";
import type { PrismaClient, Role } from "../generated/prisma/client.ts";
import { HttpError } from "../http/error-handler.ts";
import { sessionCookieName } from "../tls/transport.ts";
import { weakerOf } from "./access.ts";
import { hashSecret } from "./secrets.ts";

export const TOKEN_PREFIX = "sbt_";
/** Activity refreshes a session or token's "last seen" at most this often, not on every request. */
const TOUCH_EVERY_MS = 60_000;

/** Who is calling: a signed-in person (cookie) or an automation token. */
export interface Identity {
  kind: "user" | "token";
  /** The user's id, or the token's. */
  id: string;
  /** The person behind it (a token may belong to none). */
  userId: string | null;
  name: string;
  role: Role;
  sessionId?: string;
  csrfToken?: string;
}

declare module "fastify" {
  interface FastifyRequest {
    identity: Identity | null;
  }
}

/**
 * Recently verified API tokens, so automation does not pay a database round trip per request.
 * An entry lives TOKEN_CACHE_MS from its last verification; in the second half of that it is
 * verified again in the background, so a busy client never waits for the database, and requests
 * that miss together share one lookup. Revoking a token clears the cache at once in this process
 * (other API instances see the revocation within TOKEN_CACHE_MS, as an entry is never served
 * past that without a fresh verification).
 */
export const TOKEN_CACHE_MS = 5_000;
type TokenLookup = () => Promise<{ identity: Identity; expiresAt: Date | null }>;
export class TokenCache {
  private readonly entries = new Map<string, { identity: Identity; expiresAt: Date | null; until: number }>();
  private readonly pending = new Map<string, Promise<Identity>>();
  /** Bumped by clear(): a lookup that started before a revocation must not put its answer back. */
  private generation = 0;

  resolve(hash: string, now: number, lookup: TokenLookup): Promise<Identity> {
    const entry = this.entries.get(hash);
    if (!entry || entry.until <= now || (entry.expiresAt && entry.expiresAt.getTime() <= now)) {
      return this.load(hash, now, lookup);
    }
    if (now >= entry.until - TOKEN_CACHE_MS / 2) {
      // A failed re-check (revoked, expired, database down) drops the entry: the next request looks it up itself.
      this.load(hash, now, lookup).catch(() => this.entries.delete(hash));
    }
    return Promise.resolve(entry.identity);
  }

  clear() {
    this.generation++;
    this.entries.clear();
  }

  private load(hash: string, now: number, lookup: TokenLookup): Promise<Identity> {
    let loading = this.pending.get(hash);
    if (!loading) {
      const generation = this.generation;
      loading = lookup()
        .then(({ identity, expiresAt }) => {
          if (generation === this.generation) {
            if (this.entries.size > 10_000) this.entries.clear();
            this.entries.set(hash, { identity, expiresAt, until: now + TOKEN_CACHE_MS });
          }
          return identity;
        })
        .finally(() => this.pending.delete(hash));
      this.pending.set(hash, loading);
    }
    return loading;
  }
}

export interface SessionSettings {
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
}

/** A token never does more than its owner may do now (a token made by no user keeps its role). */
function tokenRole(token: { role: Role; user: { role: Role } | null }): Role {
  return token.user ? weakerOf(token.role, token.user.role) : token.role;
}

/** Resolves the caller; a bearer token that does not work is an error, never anonymous. */
export async function identify(
  prisma: PrismaClient,
  request: FastifyRequest,
  settings: SessionSettings,
  tokens: TokenCache,
): Promise<Identity | null> {
  const now = new Date();
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer (sbt_[A-Za-z0-9_-]{20,100})$/.exec(authorization);
    if (!match?.[1]) throw new HttpError(401, "authorization header must be `Bearer sbt_...`");
    const tokenHash = hashSecret(match[1]);
    return tokens.resolve(tokenHash, now.getTime(), async () => {
      const token = await prisma.apiToken.findUnique({
        where: { tokenHash },
        include: { user: { select: { role: true, disabledAt: true } } },
      });
      if (!token || token.revokedAt) throw new HttpError(401, "this API token is unknown or revoked");
      if (token.user?.disabledAt) throw new HttpError(401, "this API token's owner is disabled");
      if (token.expiresAt && token.expiresAt <= now)
        throw new HttpError(401, `this API token expired on ${token.expiresAt.toISOString()}`);
      if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > TOUCH_EVERY_MS) {
        await prisma.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: now } });
      }
      const identity: Identity = {
        kind: "token",
        id: token.id,
        userId: token.userId,
        name: `token:${token.name}`,
        role: tokenRole(token),
      };
      return { identity, expiresAt: token.expiresAt };
    });
  }

  const cookie = request.cookies[sessionCookieName(request)];
  if (!cookie) return null;
  const session = await prisma.loginSession.findUnique({
    where: { tokenHash: hashSecret(cookie) },
    include: { user: true },
  });
  if (!session) return null;
  const idleEnd = session.lastSeenAt.getTime() + settings.idleTimeoutMs;
  if (session.expiresAt <= now || idleEnd <= now.getTime() || session.user.disabledAt) {
    await prisma.loginSession.deleteMany({ where: { id: session.id } });
    return null;
  }
  if (now.getTime() - session.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
    await prisma.loginSession.update({ where: { id: session.id }, data: { lastSeenAt: now } });
  }
  return {
    kind: "user",
    id: session.user.id,
    userId: session.user.id,
    name: session.user.username,
    role: session.user.role,
    sessionId: session.id,
    csrfToken: session.csrfToken,
  };
}

/**
 * Whether an identity resolved earlier still holds, with the same role, without counting as
 * activity: a long-lived connection (the console's live feed) checks this on a timer, and must
 * not keep an idle session alive by doing so.
 */
export async function stillValid(
  prisma: PrismaClient,
  identity: Identity,
  settings: SessionSettings,
  now = new Date(),
): Promise<boolean> {
  if (identity.kind === "token") {
    const token = await prisma.apiToken.findUnique({
      where: { id: identity.id },
      select: { revokedAt: true, expiresAt: true, role: true, user: { select: { role: true, disabledAt: true } } },
    });
    return (
      !!token &&
      !token.revokedAt &&
      !token.user?.disabledAt &&
      (!token.expiresAt || token.expiresAt > now) &&
      tokenRole(token) === identity.role
    );
  }
  if (!identity.sessionId) return false;
  const session = await prisma.loginSession.findUnique({
    where: { id: identity.sessionId },
    select: { expiresAt: true, lastSeenAt: true, user: { select: { disabledAt: true, role: true } } },
  });
  return (
    !!session &&
    session.expiresAt > now &&
    session.lastSeenAt.getTime() + settings.idleTimeoutMs > now.getTime() &&
    !session.user.disabledAt &&
    session.user.role === identity.role
  );
}
