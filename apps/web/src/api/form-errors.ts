import type { ErrorResponse } from "@switchboard/shared";
import { ApiError } from "./http.ts";

export interface FieldProblems {
  /** form field -> the rule it broke, e.g. { address: "is outside the data subnet 10.0.0.0/24" } */
  fields: Record<string, string>;
  /** What could not be pinned on a field of the form (or the whole message when none could). */
  general: string | undefined;
}

const FIELD_MESSAGE = /^(body|querystring|params)\.([A-Za-z0-9_.]+) (.+)$/s;

/**
 * Turns the API's 400/409 into messages at the form's fields. The API names the field as
 * `body.<path>` in `errors` (several problems) or at the start of `message` (one problem).
 * A path maps to the longest known form field that prefixes it: body.pool.start -> "pool.start"
 * when the form has it, else "pool"; body.tags.3 -> "tags".
 */
export function fieldProblems(error: unknown, formFields: readonly string[]): FieldProblems {
  if (!(error instanceof ApiError) || !error.body) {
    return { fields: {}, general: error instanceof Error ? error.message : String(error) };
  }
  return problemsOf(error.body, formFields);
}

export function problemsOf(body: ErrorResponse, formFields: readonly string[]): FieldProblems {
  const issues =
    body.errors && body.errors.length > 0
      ? body.errors.map((issue) => ({ field: issue.field, message: issue.message }))
      : [splitMessage(body.message)];
  const fields: Record<string, string> = {};
  const leftover: string[] = [];
  for (const issue of issues) {
    const field = issue.field === undefined ? undefined : formFieldOf(issue.field, formFields);
    if (field !== undefined && fields[field] === undefined) fields[field] = issue.message;
    else if (field === undefined) leftover.push(issue.field ? `${issue.field} ${issue.message}` : issue.message);
  }
  const general = leftover.length > 0 ? leftover.join("; ") : undefined;
  return { fields, general: Object.keys(fields).length === 0 ? (general ?? body.message) : general };
}

function splitMessage(message: string): { field: string | undefined; message: string } {
  const match = FIELD_MESSAGE.exec(message);
  // Several problems joined with "; " arrive with an `errors` list, so one match is one problem.
  if (!match?.[2] || !match[3]) return { field: undefined, message };
  return { field: `${match[1]}.${match[2]}`, message: match[3] };
}

function formFieldOf(apiField: string, formFields: readonly string[]): string | undefined {
  const path = apiField.replace(/^(body|querystring|params)\.?/, "");
  if (!path) return undefined;
  let best: string | undefined;
  for (const field of formFields) {
    if ((path === field || path.startsWith(`${field}.`)) && (best === undefined || field.length > best.length)) {
      best = field;
    }
  }
  return best;
}
