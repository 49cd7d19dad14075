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
