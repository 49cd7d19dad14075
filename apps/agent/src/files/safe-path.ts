import { isAbsolute, join, sep } from "node:path";

/**
 * Names the agent may create under its base directory. An allow-list per path segment: letters,
 * digits, '.', '-', '_', not starting with a dot (so `.`/`..` and our hidden temp files can never
 * be named), at most 128 bytes. Every file the agent manages fits: server.conf, ccd/<common name>
 * (the CN alphabet is narrower), backbone-<n>.conf, client-hook.
 */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export class PathError extends Error {
  override readonly name = "PathError";
}

export function isManagedName(name: string): boolean {
  return SEGMENT.test(name);
}

/**
 * Joins a relative path onto the base directory after checking every segment. Lexical only:
 * symlinks are checked by the writer while it walks the directories (file-writer.ts).
 */
export function resolveInside(baseDir: string, relativePath: string): { absolute: string; segments: string[] } {
  if (typeof relativePath !== "string" || relativePath.length === 0)
    throw new PathError("path must be a non-empty string");
  if (relativePath.includes("\0")) throw new PathError("path must not contain NUL");
  if (isAbsolute(relativePath) || relativePath.startsWith("/"))
    throw new PathError(`path must be relative: ${relativePath}`);
  if (relativePath.includes("\\")) throw new PathError("path must not contain backslashes");
  const segments = relativePath.split("/");
  for (const segment of segments) {
    if (!SEGMENT.test(segment)) throw new PathError(`path segment not allowed: ${JSON.stringify(segment)}`);
  }
  const absolute = join(baseDir, ...segments);
  if (!absolute.startsWith(baseDir.endsWith(sep) ? baseDir : `${baseDir}${sep}`)) {
    throw new PathError(`path escapes the base directory: ${relativePath}`);
  }
  return { absolute, segments };
}
