import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** Resolves with the URL once the server says it is up; rejects if it exits first. */
  ready: Promise<string>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `apps/api/src/main.ts` as a real process, the way `pnpm start` does. */
export function startServer(env: Record<string, string>): ServerProcess {
  // One process (no tsx wrapper) so its pid and signals are the server's own.
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", LOG_LEVEL: "warn", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /Switchboard is up: (http:\/\/\S+\/)/.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on("data", check);
    exited.then((code) => reject(new Error(`server exited with ${code} before it was up: ${stderr}`)));
  });
  ready.catch(() => {});
  return {
    child,
    output: () => ({ stdout, stderr }),
    ready,
    exited,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
