import { execFile, execFileSync, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { promisify } from "node:util";
import { sleep } from "@switchboard/testkit/wait";

// Every command here is an argument vector (no shell), so names and addresses from the API
// never reach a shell parser.

const execFileAsync = promisify(execFile);

let refusal: string | undefined;

/**
 * From now on nothing new is started (the lab is being taken down after a signal or a crash):
 * code still running from before fails instead of leaving a process behind the clean-up.
 */
export function refuseSpawns(why: string): void {
  refusal ??= why;
}

/** Throws once refuseSpawns() was called; every place that starts a process calls it first. */
export function assertMaySpawn(what: string): void {
  if (refusal !== undefined) throw new Error(`not starting ${what}: the lab is being taken down (${refusal})`);
}

export function run(command: string, args: readonly string[]): string {
  return execFileSync(command, [...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export async function runAsync(
  command: string,
  args: readonly string[],
  timeoutMs = 30_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  assertMaySpawn(command);
  try {
    const { stdout, stderr } = await execFileAsync(command, [...args], { encoding: "utf8", timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === "number" ? failed.code : 1,
      stdout: failed.stdout ?? "",
      stderr: failed.stderr ?? String(error),
    };
  }
}

/** `ip ...` in the root namespace or, with `netns`, inside one. */
export function ip(args: readonly string[], netns?: string): string {
  return run("ip", netns === undefined ? args : ["-n", netns, ...args]);
}

/** A command run to completion inside a namespace. */
export function inNetns(netns: string, command: string, args: readonly string[], timeoutMs?: number) {
  return runAsync("ip", ["netns", "exec", netns, command, ...args], timeoutMs);
}

/**
 * Starts a long-running process inside a namespace, detached from the lab's own process group
 * so it outlives `pnpm lab up`; its output goes to `logFile`. The pid is the program's own
 * (`ip netns exec` and `unshare` exec into it), which is what `lab down` kills.
 */
export function spawnInNetns(
  netns: string,
  argv: readonly string[],
  logFile: string,
  env: NodeJS.ProcessEnv = process.env,
  cwd?: string,
): number {
  assertMaySpawn(`${argv[0]} in ${netns}`);
  const log = openSync(logFile, "a");
  try {
    const child = spawn("ip", ["netns", "exec", netns, ...argv], {
      detached: true,
      stdio: ["ignore", log, log],
      env,
      ...(cwd ? { cwd } : {}),
    });
    if (child.pid === undefined) throw new Error(`could not start ${argv[0]} in ${netns}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(log);
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Signals a pid and waits until it is gone; SIGKILL after `graceMs`. */
export async function stopPid(pid: number, signal: NodeJS.Signals = "SIGTERM", graceMs = 5000): Promise<void> {
  if (!alive(pid)) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(20);
  if (alive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
    while (alive(pid)) await sleep(20);
  }
}

/** The pids of every process inside a namespace (`ip netns pids`), for cleanup after a crash. */
export function pidsInNetns(netns: string): number[] {
  try {
    return run("ip", ["netns", "pids", netns])
      .split("\n")
      .map((line) => Number(line.trim()))
      .filter((pid) => Number.isInteger(pid) && pid > 0);
  } catch {
    return [];
  }
}

export function netnsExists(netns: string): boolean {
  try {
    return run("ip", ["netns", "list"])
      .split("\n")
      .some((line) => line.split(" ")[0] === netns);
  } catch {
    return false;
  }
}
