import { badRequest } from "./errors.ts";

/** Keyset cursor: the sort value and id of the last row of a page, opaque to clients. */
export interface Cursor {
  value: string;
  id: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.value, cursor.id])).toString("base64url");
}

/** What a cursor's parts must look like for the list that made it; a forged one is a 400, not a 5xx. */
export interface CursorShape {
  id: "uuid" | "integer";
  value?: "date" | "text";
}

const ID_FORMS = {
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  integer: /^\d{1,18}$/,
};

export function decodeCursor(raw: string, shape: CursorShape = { id: "uuid" }): Cursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
    if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((p) => typeof p === "string" && p.length <= 100)) {
      const [value, id] = parsed as [string, string];
      const valueOk = shape.value !== "date" || !Number.isNaN(Date.parse(value));
      if (ID_FORMS[shape.id].test(id) && valueOk && !value.includes("\u0000")) return { value, id };
    }
  } catch {
    // fall through to the 400 below
  }
  throw badRequest("querystring.cursor", "is not a cursor this API returned");
}
