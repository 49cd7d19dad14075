import { MigrationError } from "../db/migrator.ts";
import { PkiError } from "../pki/index.ts";
import { StartupError } from "../startup-error.ts";

/** Exit codes: 0 done, 1 the command failed (message says why), 2 the command line was wrong. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** A failure the operator can act on: printed as one line, no stack trace. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode = EXIT_FAILED,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  override name = "UsageError";
  constructor(message: string) {
    super(message, EXIT_USAGE);
  }
}

/** Runs a command; a known failure becomes one `switchboard: ...` line on stderr and its exit code. */
export async function runCommand(command: () => Promise<void>): Promise<void> {
  try {
    await command();
  } catch (error) {
    process.exitCode = report(error);
    // Open handles (a pool, a timer) must not keep a failed command alive.
    process.exit();
  }
}

function report(error: unknown): number {
  if (error instanceof CliError) {
    process.stderr.write(`switchboard: ${error.message}\n`);
    if (error instanceof UsageError) process.stderr.write("run `switchboard help` for the commands\n");
    return error.exitCode;
  }
  if (error instanceof StartupError || error instanceof MigrationError || error instanceof PkiError) {
    process.stderr.write(`switchboard: ${error.message}\n`);
    return EXIT_FAILED;
  }
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`switchboard: failed: ${text}\n`);
  return EXIT_FAILED;
}
