import type { ErrorResponse } from "@switchboard/shared";

/** Data rows of a CSV (lines after the header that are not blank), for the progress text. */
export function countCsvRows(text: string): number {
  return Math.max(0, text.split(/\r?\n/).filter((line) => line.trim() !== "").length - 1);
}

/** Every bad row; a single schema problem arrives only in the message ("body.hosts.3.address must be ..."). */
export function importProblems(body: ErrorResponse): NonNullable<ErrorResponse["errors"]> {
  if (body.errors && body.errors.length > 0) return body.errors;
  const match = /^(body\.hosts\.(\d+)(?:\.\S+)?) (.+)$/s.exec(body.message);
  if (!match?.[1] || !match[2] || !match[3]) return [];
  return [{ row: Number(match[2]), field: match[1], message: match[3] }];
}

export interface RowProblems {
  /** 0-based among the data rows; undefined for a problem of the whole file. */
  row: number | undefined;
  problems: { field: string; message: string }[];
}

/**
 * The problems grouped by row, in file order: each bad row is named once ("row 3 (line 4)"),
 * with every cell at fault in it by its column (the API's paths, body.hosts.2.address or
 * hosts.2.address, are its own business).
 */
export function problemsByRow(errors: NonNullable<ErrorResponse["errors"]>): RowProblems[] {
  const rows = new Map<number | undefined, RowProblems>();
  for (const problem of errors) {
    const entry = rows.get(problem.row) ?? { row: problem.row, problems: [] };
    const field = problem.field.replace(/^(body\.)?hosts\.\d+\.?/, "") || "row";
    entry.problems.push({ field, message: problem.message });
    rows.set(problem.row, entry);
  }
  return [...rows.values()].sort((a, b) => (a.row ?? -1) - (b.row ?? -1));
}

/** "row 3 (line 4)": rows count from 1 among the data rows; line 1 is the header. */
export function rowName(row: number | undefined): string {
  return row === undefined ? "the file" : `row ${row + 1} (line ${row + 2})`;
}
