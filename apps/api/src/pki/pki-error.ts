/**
 * A refusal the caller can act on: bad input (a CSR with the wrong subject, a weak key, a
 * malformed key file) or a key that does not open a sealed blob. `field` names what was wrong so
 * the REST layer can answer 400 with it; the message always starts with the field and states
 * the rule that was broken.
 */
export class PkiError extends Error {
  override name = "PkiError";

  constructor(
    readonly field: string,
    rule: string,
  ) {
    super(`${field}: ${rule}`);
  }
}

/** Quotes untrusted text for an error message: escapes control characters, caps the length. */
export function quote(value: string, max = 80): string {
  const shown = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(shown);
}
