/**
 * The commands of `switchboard`, the control host's one command (what the package installs as /usr/bin/switchboard).
 *   switchboard serve | version | admin reset-password USER [--stdin]
 *   switchboard backup FILE [--include-master-key] | restore FILE [--force]
 * Settings come from the environment, as for the server (DATA_DIR, DATABASE_URL, SWITCHBOARD_MASTER_KEY...).
 */
import { parseArgs } from "node:util";
import { UsageError } from "./cli-error.ts";
import { versionText } from "./version.ts";

const HELP = `usage: switchboard <command> [options]

commands:
  serve                              run the API and console (what the service unit runs)
  version                            print the version and the database schema version
  admin reset-password USER [--stdin]
                                     give USER a new password: printed once, or read from stdin
  backup FILE [--include-master-key] write a consistent backup of the database to FILE (a new file);
                                     PostgreSQL: while the server runs; embedded database: stop it first.
                                     The master key is left out unless --include-master-key, which
                                     encrypts FILE with a passphrase
  restore FILE [--force]             restore a backup into an empty DATA_DIR or database (--force:
                                     replace what is there); checks checksums, schema and master key first
  help                               this text

Settings come from the environment, as for the server: DATA_DIR, DATABASE_URL, SWITCHBOARD_MASTER_KEY.
The backup passphrase: SWITCHBOARD_BACKUP_PASSPHRASE, or the first line of stdin.
Exit codes: 0 done, 1 failed (the message says why), 2 wrong command line.
`;

type Options = Record<string, { type: "boolean" | "string" }>;

/** Parses what follows the command; unknown options and a wrong number of arguments are usage errors. */
function argumentsOf<O extends Options>(command: string, rest: string[], options: O, names: string[]) {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message}`);
  }
  if (parsed.positionals.length !== names.length) {
    const wanted = names.length === 0 ? "no arguments" : names.join(" ");
    throw new UsageError(`${command} takes ${wanted}; got ${parsed.positionals.length} argument(s)`);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve": {
      argumentsOf("serve", rest, {}, []);
      const { serve } = await import("./serve.ts");
      return serve();
    }
    case "version": {
      argumentsOf("version", rest, {}, []);
      process.stdout.write(await versionText());
      return;
    }
    case "admin": {
      const [sub, ...subRest] = rest;
      if (sub !== "reset-password") throw new UsageError("admin: the only subcommand is reset-password USER");
      const { values, positionals } = argumentsOf("admin reset-password", subRest, { stdin: { type: "boolean" } }, [
        "USER",
      ]);
      const { resetPasswordCommand } = await import("./reset-password.ts");
      return resetPasswordCommand(positionals[0] as string, { fromStdin: values.stdin === true });
    }
    case "backup": {
      const { values, positionals } = argumentsOf("backup", rest, { "include-master-key": { type: "boolean" } }, [
        "FILE",
      ]);
      const { backupCommand } = await import("./backup-command.ts");
      return backupCommand(positionals[0] as string, { includeMasterKey: values["include-master-key"] === true });
    }
    case "restore": {
      const { values, positionals } = argumentsOf("restore", rest, { force: { type: "boolean" } }, ["FILE"]);
      const { restoreCommand } = await import("./backup-command.ts");
      return restoreCommand(positionals[0] as string, { force: values.force === true });
    }
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(HELP);
      return;
    case undefined:
      process.stderr.write(HELP);
      throw new UsageError("no command given");
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command.slice(0, 40))}`);
  }
}
