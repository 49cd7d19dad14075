import { RenderError } from "@switchboard/shared";
import type { HttpError } from "../http/error-handler.ts";
import { badRequest, conflict } from "../http/errors.ts";

/**
 * The API checks input with the renderers' own validators (packages/shared/src/render), so a
 * value it accepts is one every renderer renders. They throw RenderError with a path such as
 * `body.pushRoutes[1]`; the API names fields the way its schema errors do (`body.pushRoutes.1`).
 */
export function apiField(renderField: string): string {
  return renderField.replace(/\[(\d+)\]/g, ".$1");
}

/** Runs a renderer check; its refusal becomes `toError(field, rule)` (a 400 unless told otherwise). */
export function renderRule<T>(check: () => T, toError: (field: string, rule: string) => HttpError = badRequest): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof RenderError) throw toError(apiField(error.field), error.rule);
    throw error;
  }
}

/**
 * For a change to stored data: a rule broken by a field the request sets is the request's fault
 * (400 naming `body.<field>`); one broken by a stored value the request leaves alone (data from
 * before a rule existed) is a conflict with what exists (409 naming `<stored>.<field>`).
 */
export function changeRule<T>(check: () => T, changed: readonly string[], stored: string): T {
  return renderRule(check, (field, rule) => {
    const top = /^body\.([A-Za-z]+)/.exec(field)?.[1];
    if (top === undefined || changed.includes(top)) return badRequest(field, rule);
    return conflict(field.replace(/^body/, stored), `${rule} (a stored value: change it as well)`);
  });
}
