import { badRequest } from "./errors.ts";

/** Keyset cursor: the sort value and id of the last row of a page, opaque to clients. */
export interface Cursor {
  value: string;
  id: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.value, cursor.id])).toString("base64url");
}

export function decodeCursor(raw: string): Cursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
    if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((p) => typeof p === "string" && p.length <= 100)) {
      return { value: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through to the 400 below
  }
  throw badRequest("querystring.cursor", "is not a cursor this API returned");
}
