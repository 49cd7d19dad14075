import { chmod, chown, lstat } from "node:fs/promises";
import type { CommandRunner } from "../system/command-runner.ts";

/**
 * OpenVPN runs the hook after it has dropped root (`user nobody`, `group nogroup` in the rendered
 * configs), so the FIFO must let that group write and nobody else: root:<group> 0620. Reading
 * stays the agent's alone. Any other process running with that group could write lines too;
 * what they claim is corrected by the status 3 reconcile, which asks OpenVPN itself.
 */
export const HOOK_FIFO_MODE = 0o620;

/** The group's id through NSS (getent), as Node has no getgrnam; undefined when there is no such group. */
export async function groupId(group: string, runner: CommandRunner): Promise<number | undefined> {
  const found = await runner.run("getent", ["group", group]).catch(() => undefined);
  const gid = found?.code === 0 ? found.stdout.split(":")[2] : undefined;
  return gid !== undefined && /^[0-9]+$/.test(gid) ? Number(gid) : undefined;
}

/** Gives `group` write access to the FIFO; returns why it could not (the hook then cannot report). */
export async function letGroupWrite(
  fifoPath: string,
  group: string,
  runner: CommandRunner,
): Promise<string | undefined> {
  const gid = await groupId(group, runner);
  if (gid === undefined) return `no group ${group}: OpenVPN's hook cannot write ${fifoPath}`;
  const stat = await lstat(fifoPath);
  if (!stat.isFIFO()) return `${fifoPath} is not a FIFO`;
  try {
    if (stat.gid !== gid) await chown(fifoPath, stat.uid, gid);
    if ((stat.mode & 0o777) !== HOOK_FIFO_MODE) await chmod(fifoPath, HOOK_FIFO_MODE);
  } catch (error) {
    return `cannot give group ${group} write access to ${fifoPath}: ${(error as Error).message}`;
  }
  return undefined;
}
