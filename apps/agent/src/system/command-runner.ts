import { spawn } from "node:child_process";

/**
 * Every program the agent runs (ip, and later systemctl/openvpn) goes through this interface, so
 * tests swap in a fake that records the calls and answers like the real tool, and "a no-op
 * reconcile runs no route command" is something a test can count.
 */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CommandRunner {
  /** Never rejects for a non-zero exit: callers read `code`. Rejects only if the program cannot run. */
  run(file: string, args: readonly string[], input?: string): Promise<CommandResult>;
}

export interface SpawnRunnerOptions {
  /** Kill a command that hangs (a wedged netlink socket must not wedge the agent). */
  readonly timeoutMs?: number;
}

export function spawnRunner(options: SpawnRunnerOptions = {}): CommandRunner {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    run(file, args, input) {
      return new Promise((resolve, reject) => {
        const child = spawn(file, [...args], { stdio: ["pipe", "pipe", "pipe"], timeout: timeoutMs });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
        child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
        child.on("error", reject);
        child.on("close", (code, signal) => {
          resolve({
            code: code ?? (signal ? 128 : 1),
            stdout: Buffer.concat(out).toString("utf8"),
            stderr: Buffer.concat(err).toString("utf8") + (signal ? `\nkilled by ${signal}` : ""),
          });
        });
        child.stdin.on("error", () => {
          // EPIPE when the program exits before reading everything: its exit code tells the story.
        });
        child.stdin.end(input ?? "");
      });
    },
  };
}
