/**
 * Text PostgreSQL cannot store, found before it reaches the database: NUL (a 5xx from the
 * driver) and unpaired UTF-16 surrogates (invalid UTF-8, refused by the server). Every string in
 * a body, query or path is checked, whatever its schema says, so no field can forget it.
 */
export interface TextIssue {
  instancePath: string;
  keyword: "text";
  message: string;
  params: Record<string, never>;
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function problemOf(text: string): string | undefined {
  if (text.includes("\u0000")) return "must not contain a NUL character";
  if (LONE_SURROGATE.test(text)) return "must be valid Unicode text (it has an unpaired UTF-16 surrogate)";
  return undefined;
}

export function findTextIssues(value: unknown, path = "", found: TextIssue[] = []): TextIssue[] {
  if (typeof value === "string") {
    const message = problemOf(value);
    if (message) found.push({ instancePath: path, keyword: "text", message, params: {} });
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => {
      findTextIssues(item, `${path}/${i}`, found);
    });
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const keyProblem = problemOf(key);
      if (keyProblem)
        found.push({
          instancePath: path,
          keyword: "text",
          message: `has a key that ${keyProblem.slice(5)}`,
          params: {},
        });
      findTextIssues(item, `${path}/${key}`, found);
    }
  }
  return found;
}
