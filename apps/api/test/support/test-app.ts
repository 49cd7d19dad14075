import { randomBytes } from "node:crypto";
import { buildApp } from "../../src/app.ts";
import { DEFAULT_PKI, type PkiSettings } from "../../src/features/pki/pki-settings.ts";
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
  return { app, db, pki };
}
