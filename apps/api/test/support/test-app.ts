import { buildApp } from "../../src/app.ts";
import type { TypedApp } from "../../src/http/typed-app.ts";
import { type DatabaseKind, openTestDatabase } from "./test-database.ts";

/** The whole API on a fresh database of the given kind; closing it drops the database. */
export async function openTestApp(kind: DatabaseKind): Promise<TypedApp> {
  const db = await openTestDatabase(kind);
  return buildApp({ db, closeDatabaseOnClose: true });
}
