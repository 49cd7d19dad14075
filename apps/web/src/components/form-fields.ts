import type { UseFormReturnType } from "@mantine/form";
import { fieldProblems } from "../api/form-errors.ts";

/**
 * Puts the API's validation messages on the form's fields; returns what could not be placed
 * (shown above the buttons), so no message is lost.
 */
export function showApiErrors<T>(
  form: UseFormReturnType<T>,
  error: unknown,
  fields: readonly string[],
  /** API field -> form field, where the form names it differently (pool.start -> poolStart). */
  rename: Record<string, string> = {},
): string | undefined {
  const problems = fieldProblems(error, fields);
  const errors: Record<string, string> = {};
  for (const [field, message] of Object.entries(problems.fields)) errors[rename[field] ?? field] = message;
  form.setErrors(errors);
  return problems.general;
}

/** "" -> undefined, so an empty optional field is left out of the body (the API then picks). */
export function optional(value: string): string | undefined {
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}

/** The fields of `after` that differ from `before`: an edit sends only those. */
export function changedFields(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): Record<string, unknown> {
  const changed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(after)) {
    if (JSON.stringify(before[key]) !== JSON.stringify(value)) changed[key] = value;
  }
  return changed;
}
