#!/usr/bin/env node
// Writes prisma/migrations/<timestamp>_<name>/migration.sql: the SQL that takes the database
// from the schema of the newest migration (its schema.prisma snapshot) to prisma/schema.prisma.
// Prisma's own `migrate dev` cannot run here (it needs native engines or trips over
// prisma/orm#27403), so we diff two datamodels with `prisma migrate diff --script`.
// Usage: pnpm db:migration <name>   (DATABASE_URL: any reachable Postgres; nothing is written to it)
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const name = process.argv[2] ?? "";
if (!/^[a-z0-9_]{1,60}$/.test(name)) {
  console.error("usage: pnpm db:migration <name>   (name: lowercase letters, digits, _)");
  process.exit(2);
}
const dir = new URL(".", import.meta.url).pathname;
const migrations = join(dir, "migrations");
const previous = readdirSync(migrations, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort()
  .at(-1);
const from = previous ? ["--from-schema-datamodel", join(migrations, previous, "schema.prisma")] : ["--from-empty"];
if (previous && !existsSync(from[1])) {
  console.error(`${previous} has no schema.prisma snapshot to diff from`);
  process.exit(1);
}
const sql = execFileSync(
  "pnpm",
  ["exec", "prisma", "migrate", "diff", ...from, "--to-schema-datamodel", join(dir, "schema.prisma"), "--script"],
  {
    encoding: "utf8",
    env: { ...process.env, DATABASE_URL: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres" },
  },
);
if (!/\b(CREATE|ALTER|DROP)\b/.test(sql)) {
  console.log("schema.prisma matches the newest migration: nothing to write");
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
const target = join(migrations, `${stamp}_${name}`);
mkdirSync(target);
writeFileSync(join(target, "migration.sql"), sql);
copyFileSync(join(dir, "schema.prisma"), join(target, "schema.prisma"));
console.log(`wrote ${target}/migration.sql; review it, then commit the folder`);
