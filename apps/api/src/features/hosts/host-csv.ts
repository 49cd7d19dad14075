import { parse } from "csv-parse/sync";
import { HttpError } from "../../http/error-handler.ts";
import { badRequest } from "../../http/errors.ts";

const COLUMNS = ["commonName", "address", "description", "tags", "enabled", "subnets", "pushRoutes"] as const;
const LIST_COLUMNS = new Set(["tags", "subnets", "pushRoutes"]);
/** The JSON import's own cap (HostImportSchema); reading stops one row past it. */
export const MAX_CSV_ROWS = 20_000;
/** Far above any valid row (a description is at most 500 characters); stops a giant cell early. */
const MAX_ROW_BYTES = 10_000;

/**
 * Reads a CSV import into the rows of the JSON import body. Only the shape is handled here
 * (columns, lists, booleans); the values are checked by the same schema and rules as JSON.
 */
export function parseHostCsv(text: string): Record<string, unknown>[] {
  let records: Record<string, string>[];
  try {
    records = parse(text, {
      columns: uniqueColumns,
      skip_empty_lines: true,
      trim: true,
      bom: true,
      max_record_size: MAX_ROW_BYTES,
      to: MAX_CSV_ROWS + 1,
    });
  } catch (error) {
    if (error instanceof HttpError) throw error;
    const csv = error as { code?: string; column?: unknown; records?: unknown; lines?: unknown };
    if (csv.code === "CSV_MAX_RECORD_SIZE") {
      // Named like the JSON import's fields, so the operator finds the cell.
      const column = String(csv.column ?? "?").slice(0, 40);
      throw badRequest(
        `body.hosts.${Number(csv.records)}.${column}`,
        `is too long: a CSV row may hold at most ${MAX_ROW_BYTES} bytes (line ${Number(csv.lines)})`,
      );
    }
    throw badRequest("body", `is not valid CSV: ${(error as Error).message}`);
  }
  if (records.length === 0) throw badRequest("body", "has no rows after the header");
  if (records.length > MAX_CSV_ROWS) throw badRequest("body", `has more than ${MAX_CSV_ROWS} rows; split the import`);
  const header = Object.keys(records[0] ?? {});
  const unknown = header.find((column) => !(COLUMNS as readonly string[]).includes(column));
  if (unknown !== undefined)
    throw badRequest("body", `has an unknown column "${unknown.slice(0, 40)}"; known: ${COLUMNS.join(", ")}`);
  return records.map((record) => {
    const row: Record<string, unknown> = {};
    for (const [column, value] of Object.entries(record)) {
      if (value === "" && column !== "commonName") continue;
      if (LIST_COLUMNS.has(column)) row[column] = value.split(/[\s;]+/).filter(Boolean);
      else if (column === "enabled") row[column] = value === "true" ? true : value === "false" ? false : value;
      else row[column] = value;
    }
    return row;
  });
}

/** A column named twice would let one cell silently overwrite the other. */
function uniqueColumns(header: string[]): string[] {
  const seen = new Set<string>();
  for (const column of header) {
    if (seen.has(column)) throw badRequest("body", `has the column "${column.slice(0, 40)}" twice`);
    seen.add(column);
  }
  return header;
}
