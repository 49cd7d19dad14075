import type { Tx } from "../../db/transactions.ts";

/**
 * The migrator's own bookkeeping comes from the migrations themselves; the cluster event log is a
 * ten-minute message log between running instances, meaningless (and unsafe to replay) after a restore.
 */
const NOT_BACKED_UP = new Set(["_switchboard_migrations", "ClusterEvent"]);

export interface TableInfo {
  name: string;
  /** Primary key columns: rows are written in this order, so the same data gives the same file. */
  key: string[];
}

/** Quotes an identifier read from the catalog (every table name is checked against it before use). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Every table of the public schema in an order where each comes after the tables it references. */
export async function tablesInDependencyOrder(tx: Tx): Promise<TableInfo[]> {
  const tables = await tx.$queryRawUnsafe<{ name: string; key: string[] | null }[]>(`
    SELECT c.relname::text AS name,
      (SELECT array_agg(a.attname::text ORDER BY array_position(i.indkey::int2[], a.attnum))
         FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = c.oid AND i.indisprimary) AS key
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r'
    ORDER BY c.relname`);
  const references = await tx.$queryRawUnsafe<{ child: string; parent: string }[]>(`
    SELECT child.relname::text AS child, parent.relname::text AS parent
    FROM pg_constraint f
      JOIN pg_class child ON child.oid = f.conrelid
      JOIN pg_class parent ON parent.oid = f.confrelid
      JOIN pg_namespace n ON n.oid = child.relnamespace
    WHERE f.contype = 'f' AND n.nspname = 'public'`);
  const kept = tables.filter((table) => !NOT_BACKED_UP.has(table.name));
  const parents = new Map(kept.map((table) => [table.name, new Set<string>()]));
  for (const { child, parent } of references) if (child !== parent) parents.get(child)?.add(parent);
  const ordered: TableInfo[] = [];
  const placed = new Set<string>();
  while (ordered.length < kept.length) {
    const next = kept.filter(
      (t) => !placed.has(t.name) && [...(parents.get(t.name) ?? [])].every((p) => placed.has(p) || !parents.has(p)),
    );
    if (next.length === 0) throw new Error("tables reference each other in a cycle; a backup cannot order them");
    for (const table of next) {
      placed.add(table.name);
      ordered.push({ name: table.name, key: table.key ?? [] });
    }
  }
  return ordered;
}

const FETCH_ROWS = 2000;

/**
 * Each row as the database prints it in JSON (row_to_json): bigint as an exact number literal,
 * bytea as "\\x..." hex, timestamps to the microsecond, arrays and jsonb as JSON. The text is never
 * parsed here, so nothing is rounded through JavaScript numbers; restore hands it back to the
 * database, which reads every value with the column's own type.
 */
export async function* rowsOf(tx: Tx, table: TableInfo): AsyncGenerator<string[]> {
  const order = table.key.length > 0 ? ` ORDER BY ${table.key.map((k) => `t.${quoteIdent(k)}`).join(", ")}` : "";
  const cursor = `backup_${table.name.replace(/[^A-Za-z0-9_]/g, "_")}`;
  await tx.$executeRawUnsafe(
    `DECLARE ${quoteIdent(cursor)} NO SCROLL CURSOR FOR SELECT row_to_json(t)::text AS line FROM ${quoteIdent(table.name)} t${order}`,
  );
  try {
    for (;;) {
      const batch = await tx.$queryRawUnsafe<{ line: string }[]>(`FETCH ${FETCH_ROWS} FROM ${quoteIdent(cursor)}`);
      if (batch.length === 0) return;
      yield batch.map((row) => row.line);
    }
  } finally {
    await tx.$executeRawUnsafe(`CLOSE ${quoteIdent(cursor)}`);
  }
}

const INSERT_ROWS = 500;

/** Inserts rows written by rowsOf; the database parses each JSON value as its column's type. */
export async function insertRows(tx: Tx, table: string, lines: string[]): Promise<void> {
  for (let start = 0; start < lines.length; start += INSERT_ROWS) {
    const json = `[${lines.slice(start, start + INSERT_ROWS).join(",")}]`;
    await tx.$executeRawUnsafe(
      `INSERT INTO ${quoteIdent(table)} SELECT * FROM json_populate_recordset(NULL::${quoteIdent(table)}, $1::json)`,
      json,
    );
  }
}

/** After rows came in with their own ids, each serial column's sequence continues past the largest. */
export async function resetSequences(tx: Tx, tables: string[]): Promise<void> {
  const serials = await tx.$queryRawUnsafe<{ table: string; column: string; sequence: string }[]>(`
    SELECT table_name::text AS table, column_name::text AS column,
      pg_get_serial_sequence(quote_ident(table_name), column_name)::text AS sequence
    FROM information_schema.columns
    WHERE table_schema = 'public' AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL`);
  for (const { table, column, sequence } of serials) {
    if (!tables.includes(table)) continue;
    await tx.$queryRawUnsafe(
      `SELECT setval($1::regclass, COALESCE((SELECT max(${quoteIdent(column)}) FROM ${quoteIdent(table)}), 0) + 1, false)::text`,
      sequence,
    );
  }
}

/** Tables that hold at least one row, for the "restore only into an empty database" rule. */
export async function tablesWithRows(tx: Tx, tables: TableInfo[]): Promise<string[]> {
  const found: string[] = [];
  for (const table of tables) {
    const rows = await tx.$queryRawUnsafe<unknown[]>(`SELECT 1 FROM ${quoteIdent(table.name)} LIMIT 1`);
    if (rows.length > 0) found.push(table.name);
  }
  return found;
}

export async function emptyTables(tx: Tx, tables: TableInfo[]): Promise<void> {
  if (tables.length === 0) return;
  await tx.$executeRawUnsafe(`TRUNCATE ${tables.map((t) => quoteIdent(t.name)).join(", ")} RESTART IDENTITY CASCADE`);
}
