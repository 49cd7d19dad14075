/** Small helpers the packaging steps share: running a program and failing loudly, file sizes. */
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";

/** Runs a program (no shell: every argument is passed as it is) and throws with its output when it fails. */
export function run(file: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const result = spawnSync(file, [...args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw new Error(`${file}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${file} ${args.join(" ")} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

export function megabytes(path: string): string {
  return `${(statSync(path).size / 1024 / 1024).toFixed(1)} MB`;
}

/** A version goes into file names and control files: only what Debian and a path both accept. */
export function checkVersion(version: string): string {
  if (!/^[0-9][0-9A-Za-z.+~]{0,40}$/.test(version))
    throw new Error(`version ${JSON.stringify(version)}: not a plain version`);
  return version;
}
