import { HostImportSchema } from "@switchboard/shared";
import { HttpError, type ValidationIssue, validationProblems } from "../../http/error-handler.ts";
import { validatorCompiler } from "../../http/validation.ts";

/** One bad row of an import, as the 400's `errors` lists it. */
export interface ImportProblem {
  row: number;
  field: string;
  message: string;
}

/** The rows that passed the schema (with their row numbers in the file) and what was wrong with the others. */
export interface ScreenedImport {
  rows: number[];
  problems: ImportProblem[];
}

type Check = ((data: unknown) => boolean) & { errors?: unknown };
/** The route's own validator (same Ajv options and text checks), compiled on first use. */
let check: Check | undefined;

/**
 * An import whose only schema problems are inside rows is not refused here, row problem by row
 * problem: the bad rows are set aside and the others go on to the network's rules (conflicts,
 * addresses), so one answer lists every bad row of the file. Whatever is wrong outside the rows
 * (no networkId, no rows at all) is left to the route's own validation. Returns undefined when
 * there was nothing to set aside.
 */
export function screenImportRows(body: unknown): ScreenedImport | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const hosts = (body as { hosts?: unknown }).hosts;
  if (!Array.isArray(hosts) || hosts.length === 0 || hosts.length > 20_000) return undefined;
  check ??= validatorCompiler()({
    schema: HostImportSchema,
    httpPart: "body",
    url: "/api/hosts/import",
    method: "POST",
  }) as Check;
  if (check(body)) return undefined;
  const issues = (check.errors ?? []) as ValidationIssue[];
  if (issues.some((issue) => !/^\/hosts\/\d+(\/|$)/.test(issue.instancePath))) return undefined;
  const problems = validationProblems("body", issues).filter((p): p is ImportProblem => p.row !== undefined);
  const bad = new Set(problems.map((p) => p.row));
  const rows = hosts.map((_, row) => row).filter((row) => !bad.has(row));
  if (rows.length === 0) throw importRefused(problems);
  (body as { hosts: unknown[] }).hosts = rows.map((row) => hosts[row]);
  return { rows, problems };
}

/** The 400 of an import with bad rows: every one of them, in file order; nothing was imported. */
export function importRefused(problems: ImportProblem[]): HttpError {
  const sorted = [...problems].sort((a, b) => a.row - b.row);
  const first = sorted[0];
  const rows = new Set(sorted.map((p) => p.row)).size;
  const what = rows === 1 ? "1 imported host is invalid" : `${rows} of the imported hosts are invalid`;
  return new HttpError(
    400,
    `${what}, nothing was imported; first: row ${first?.row} ${first?.field} ${first?.message}`,
    undefined,
    undefined,
    sorted,
  );
}
