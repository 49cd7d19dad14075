import type { UseFormReturnType } from "@mantine/form";
import { useState } from "react";
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

export interface ApiErrors {
  general: string | undefined;
  clear: () => void;
  show: (error: unknown) => void;
}

/**
 * A form's share of the API's refusals: `show` puts them on the fields (see `showApiErrors`) and
 * keeps the rest in `general` for `FormError`; `clear` empties `general` when the form is sent again.
 */
export function useApiErrors<T>(
  form: UseFormReturnType<T>,
  fields: readonly string[],
  rename: Record<string, string> = {},
): ApiErrors {
  const [general, setGeneral] = useState<string>();
  return {
    general,
    clear: () => setGeneral(undefined),
    show: (error) => setGeneral(showApiErrors(form, error, fields, rename)),
  };
}

/** The body without the keys left undefined, so the API picks its default for them. */
export function withoutUndefined(body: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(body)) if (body[key] === undefined) delete body[key];
  return body;
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

/** A create-or-edit mutation as `saveChanges` calls it: without an id it creates, with one it edits. */
interface SaveMutation<Item, Body> {
  mutate: (
    variables: { id?: string; body: Body },
    callbacks: { onSuccess: (saved: Item) => void; onError: (error: unknown) => void },
  ) => void;
}

/**
 * Submits a create-or-edit form. A create sends the whole body; an edit sends only the fields
 * that differ from the item as saved, and when none do it is done at once, without a request.
 * The API's refusals go to the form (`useApiErrors`).
 */
export function saveChanges<Item extends { id: string }, Body>({
  body,
  saved,
  save,
  errors,
  onDone,
}: {
  body: Record<string, unknown>;
  /** When editing: the item, and its body as it is saved now. */
  saved: { item: Item; body: Record<string, unknown> } | undefined;
  save: SaveMutation<Item, Body>;
  errors: ApiErrors;
  onDone: (saved: Item) => void;
}): void {
  errors.clear();
  const callbacks = { onSuccess: onDone, onError: errors.show };
  if (!saved) {
    save.mutate({ body: body as Body }, callbacks);
    return;
  }
  const changed = changedFields(saved.body, body);
  if (Object.keys(changed).length === 0) onDone(saved.item);
  else save.mutate({ id: saved.item.id, body: changed as Body }, callbacks);
}
