import { createHash } from "node:crypto";

/** A parameterised SQL statement. */
export interface Statement {
  text: string;
  params: unknown[];
  /**
   * Keep one prepared plan per text (node-postgres prepares it once per connection). Leave it
   * off when the best plan depends on a parameter's value, e.g. how rare a searched text is.
   */
  reusePlan: boolean;
}

/**
 * Plain SQL reads on the connections Prisma itself uses, for a hot path where building the query
 * through Prisma costs more than running it (the host list). PGlite runs in this process and keeps
 * no prepared plans.
 */
export interface SqlReader {
  query<Row>(statement: Statement): Promise<Row[]>;
}

const names = new Map<string, string>();

/** The prepared-statement name of a text: derived from the text, so one name never means two texts. */
export function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    // The texts in use are few (one per combination of filters and sort); the bound is a safety net.
    if (names.size > 1000) names.clear();
    name = `sb_${createHash("sha256").update(text).digest("base64url").slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}
