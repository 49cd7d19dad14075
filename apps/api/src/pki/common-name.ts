import { PkiError, quote } from "./pki-error.ts";

/**
 * Host and switch common names end up in OpenVPN's logs, `client-config-dir` file names and
 * status output, so they are kept to a set of characters that is safe in all of those: no
 * separators a DN parser or a path would read, no quotes, spaces or control characters.
 */
const COMMON_NAME = /^[A-Za-z0-9._-]{1,64}$/;
export const COMMON_NAME_RULE = "a common name is 1 to 64 characters, each a letter, digit, '.', '-' or '_'";

export function isValidCommonName(value: string): boolean {
  return COMMON_NAME.test(value);
}

export function assertCommonName(field: string, value: string): void {
  if (!isValidCommonName(value)) throw new PkiError(field, `${quote(value)} is not allowed: ${COMMON_NAME_RULE}`);
}

/**
 * A CA's name is shown to operators, not used as a file name, so it may contain spaces; control
 * characters and DN separators are still refused so it prints on one line everywhere.
 */
const CA_NAME = /^[^\p{Cc}/,=+"\\<>;]{1,64}$/u;
export const CA_NAME_RULE = 'a CA name is 1 to 64 characters without control characters or any of / , = + " \\ < > ;';

export function assertCaName(field: string, value: string): void {
  if (!CA_NAME.test(value) || value.trim() !== value) {
    throw new PkiError(field, `${quote(value)} is not allowed: ${CA_NAME_RULE}, and no leading or trailing space`);
  }
}
