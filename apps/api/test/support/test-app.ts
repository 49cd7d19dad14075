import { randomBytes } from "node:crypto";
import { buildApp } from "../../src/app.ts";
import { hashSecret, newSecret } from "../../src/auth/secrets.ts";
import type { Database } from "../../src/db/database.ts";
import { DEFAULT_PKI, type PkiSettings } from "../../src/features/pki/pki-settings.ts";
import type { Role } from "../../src/generated/prisma/client.ts";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { type DatabaseKind, openTestDatabase } from "./test-database.ts";

/** EC keys: the same code paths as RSA at a fraction of the key-generation time. */
export function testPki(overrides: Partial<PkiSettings> = {}): PkiSettings {
  return { ...DEFAULT_PKI, masterKey: randomBytes(32), caKeyType: "ec-p256", leafKeyType: "ec-p256", ...overrides };
}

/** The whole API on a fresh database of the given kind; closing it drops the database. */
export async function openTestApp(kind: DatabaseKind, pki: PkiSettings = testPki()): Promise<TypedApp> {
  return (await openTestAppWithDatabase(kind, pki)).app;
}

/** The same, with the database at hand for assertions the API does not expose. */
export async function openTestAppWithDatabase(kind: DatabaseKind, pki: PkiSettings = testPki()) {
  const db = await openTestDatabase(kind);
  const app = await buildApp({
    db,
    pki,
    closeDatabaseOnClose: true,
    ...(process.env.TEST_LOG ? { logger: { level: "error" } } : {}),
  });
  const adminToken = await seedToken(db, "admin");
  defaultTokens.set(app, adminToken);
  return { app, db, pki, adminToken };
}

/** The admin token apiClient(app) sends unless told otherwise. */
export const defaultTokens = new WeakMap<object, string>();

/** An API token of the given role, written straight to the database as the tokens route would. */
export async function seedToken(db: Database, role: Role, name = `test-${role}`): Promise<string> {
  const token = `sbt_${newSecret()}`;
  await db.prisma.apiToken.create({ data: { name, role, tokenHash: hashSecret(token), prefix: token.slice(0, 10) } });
  return token;
}
