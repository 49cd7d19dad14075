import { writeSync } from "node:fs";
import { refuseSpawns } from "./system.ts";

/**
 * How a lab runner (`pnpm test:lab`, `pnpm lab up`) ends when it does not end through its own
 * summary: a signal (SIGTERM, SIGINT, SIGHUP), an uncaught exception or unhandled rejection, an
 * event loop that empties while main() still awaits (a promise that never settles: Node would
 * exit 0 without a word), a parent process that went away (a SIGTERM to pnpm does not reach
 * its script), or a process.exit from elsewhere. Each time it stops the runner from
 * starting anything new, takes down what the runner made, prints a failing summary line and
 * exits non-zero (128 + the signal's number after a signal). A second signal while it cleans up
 * removes what is left at once (SIGKILL by pid, namespaces deleted) and exits.
 */
export interface ExitGuardOptions {
  /** The runner's last line when it did not finish; `why` says what ended it. */
  summary(why: string): string;
  /** Takes down what the runner made and has not yet taken down itself. */
  cleanup(): Promise<void>;
  /** The same without waiting (SIGKILL, `ip netns del`): for `exit` and a second signal. */
  cleanupSync(): void;
  /** Longest wait for cleanup() before cleanupSync() takes over. */
  cleanupTimeoutMs?: number;
}

export interface ExitGuard {
  /**
   * main() is done: print its summary line and exit with `code`. When the run is already ending
   * another way (a signal came in meanwhile), the guard prints and exits instead, once it is clean.
   */
  finish(code: number, summary?: string): void;
  /** Why the run is ending abnormally, once it is. */
  readonly ending: string | undefined;
}

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

/** Writes a line to stdout now (also inside an `exit` listener); a closed stdout is not an error here. */
function line(text: string): void {
  try {
    writeSync(1, `${text}\n`);
  } catch {}
}

function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

export function guardExit(options: ExitGuardOptions): ExitGuard {
  let finished = false;
  let printed = false;
  let ending: string | undefined;

  const printSummary = (why: string) => {
    if (printed) return;
    printed = true;
    line(options.summary(why));
  };
  const cleanNow = () => {
    try {
      options.cleanupSync();
    } catch (error) {
      line(`lab: removing what was left failed: ${describeError(error)}`);
    }
  };

  async function end(why: string, code: number, kind: "signal" | "error"): Promise<void> {
    if (ending !== undefined) {
      // What was running fails as its processes go: said, not acted on. A second signal is a
      // person who will not wait: what is left goes now.
      if (kind === "error") {
        line(`lab: while taking the lab down: ${why.split("\n")[0]}`);
        return;
      }
      line(`lab: ${why} while taking the lab down (${ending}): removing what is left now`);
      cleanNow();
      printSummary(ending);
      process.exit(code);
    }
    ending = why;
    refuseSpawns(why);
    const [head, ...stack] = why.split("\n");
    line(`lab: ${head}; taking down what this run made`);
    if (stack.length > 0) line(stack.join("\n"));
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        options.cleanup(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`not done after ${(options.cleanupTimeoutMs ?? 60_000) / 1000} s`)),
            options.cleanupTimeoutMs ?? 60_000,
          );
        }),
      ]);
    } catch (error) {
      line(
        `lab: taking the lab down failed (${error instanceof Error ? error.message : String(error)}); removing what is left`,
      );
      cleanNow();
    } finally {
      clearTimeout(timer);
    }
    printSummary(why);
    process.exit(code);
  }

  for (const [signal, number] of Object.entries(SIGNALS)) {
    process.on(signal, () => void end(`interrupted by ${signal}`, 128 + number, "signal"));
  }
  // A SIGTERM to `pnpm test:lab` ends pnpm and the `sh -c` it runs, and never reaches this
  // process, which would run on alone. A parent that goes away ends the run like a hang-up.
  const parent = process.ppid;
  const parentWatch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(parentWatch);
    void end(`its parent process (pid ${parent}) went away`, 129, "error");
  }, 500);
  parentWatch.unref();
  process.on("uncaughtException", (error) => void end(`uncaught exception: ${describeError(error)}`, 1, "error"));
  process.on("unhandledRejection", (reason) => void end(`unhandled rejection: ${describeError(reason)}`, 1, "error"));
  // The event loop is empty but main() has not finished: it awaits something nothing will settle.
  process.on("beforeExit", () => {
    if (!finished && ending === undefined) {
      void end("the event loop emptied before the run finished (main() awaits a promise nothing settles)", 1, "error");
    }
  });
  // Last resort, synchronous: a process.exit() that did not come through finish() or end().
  process.on("exit", (code) => {
    if (finished || printed) return;
    cleanNow();
    printSummary(ending ?? `the process exited (code ${code}) before the run finished`);
    if (code === 0) process.exitCode = 1;
  });

  return {
    finish(code, summary) {
      if (ending !== undefined) return;
      finished = true;
      if (summary !== undefined) {
        printed = true;
        line(summary);
      }
      process.exit(code);
    },
    get ending() {
      return ending;
    },
  };
}
