import { CliError } from "./cli-error.ts";

export async function backupCommand(_file: string, _options: { includeMasterKey: boolean }): Promise<void> {
  throw new CliError("backup: not built yet");
}

export async function restoreCommand(_file: string, _options: { force: boolean }): Promise<void> {
  throw new CliError("restore: not built yet");
}
