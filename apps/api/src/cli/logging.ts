import type { FastifyServerOptions } from "fastify";
import pretty from "pino-pretty";
import type { LogLevel } from "../config.ts";

/**
 * Readable lines for a person at a terminal, JSON lines for journald and log shippers.
 * pino-pretty runs as a plain synchronous stream, not a worker-thread transport: a worker
 * resolves its target by module name at run time, which a bundled or packaged build may not have.
 */
export function loggerOptions(
  level: LogLevel,
  stdoutIsTerminal = process.stdout.isTTY === true,
): FastifyServerOptions["logger"] {
  if (!stdoutIsTerminal) return { level };
  return {
    level,
    stream: pretty({ sync: true, colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" }),
  };
}
