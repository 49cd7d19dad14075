/**
 * A problem the operator can fix (bad setting, port taken, database unreachable). main.ts prints
 * its message as one line and exits 1, instead of a stack trace.
 */
export class StartupError extends Error {
  override name = "StartupError";
}

/** The error code Node or pg attached, if any (ECONNREFUSED, EADDRINUSE, 28P01...). */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}
