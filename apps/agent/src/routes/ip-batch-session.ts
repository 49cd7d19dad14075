import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import type { CommandResult } from "../system/command-runner.ts";

/**
 * Runs route batches through ONE long-lived `ip -force -batch -`, fed line by line on stdin.
 * Starting `ip` costs more than a small batch itself (16 ms p50 on the 2-core CI machine under
 * load, against 1-5 ms for the lines), and one re-pointed route must cost well under 10 ms.
 *
 * ip prints nothing for a route command that works, so each batch ends with a marker line that
 * always fails: `link show dev <MARKER_DEVICE>` (a device nobody creates; a failing `route get`
 * would not do, ip exits on a malformed prefix). ip numbers lines over its whole life and
 * writes "Command failed -:<n>" to stderr in order, so once the marker's number appears, every
 * line before it has run and its errors have been read from the same pipe. The errors are
 * renumbered from 1 for the batch, as a one-shot `ip -force -batch -` reports them.
 *
 * A batch that takes longer than `timeoutMs`, or an ip that exits, fails the batch (the caller
 * reads the table back) and the next batch starts a new ip.
 */
export const MARKER_DEVICE = "sb-ip-marker";

export interface IpBatchSessionOptions {
  readonly ipPath?: string;
  readonly netns?: string | undefined;
  readonly timeoutMs?: number;
}

interface Pending {
  readonly first: number;
  readonly marker: number;
  readonly resolve: (result: CommandResult) => void;
  readonly timer: NodeJS.Timeout;
}

export class IpBatchSession {
  private child: ChildProcessWithoutNullStreams | undefined;
  /** Lines written to the current ip so far (ip's own line numbers). */
  private sent = 0;
  private stderr = "";
  private pending: Pending | undefined;

  constructor(private readonly options: IpBatchSessionOptions = {}) {}

  /** One batch; never rejects. At most one at a time (the route programmer serialises applies). */
  run(lines: readonly string[]): Promise<CommandResult> {
    if (this.pending !== undefined) throw new Error("IpBatchSession: one batch at a time");
    const child = this.child ?? this.start();
    return new Promise((resolve) => {
      const first = this.sent + 1;
      const marker = first + lines.length;
      const timer = setTimeout(() => {
        this.finish({ code: 128, stdout: "", stderr: `ip -batch gave no answer within ${this.timeoutMs} ms` });
        this.stop();
      }, this.timeoutMs);
      this.pending = { first, marker, resolve, timer };
      this.sent = marker;
      child.stdin.write(`${lines.join("\n")}\nlink show dev ${MARKER_DEVICE}\n`);
    });
  }

  /** Starts ip ahead of the first batch (the programmer does while it reads the table). */
  prepare(): void {
    this.child ??= this.start();
  }

  /** Ends the ip process (it also ends by itself when this process exits: its stdin closes). */
  stop(): void {
    const child = this.child;
    this.child = undefined;
    if (child !== undefined) {
      child.stdin.end();
      child.kill();
    }
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? 30_000;
  }

  private start(): ChildProcessWithoutNullStreams {
    const args = this.options.netns === undefined ? [] : ["-n", this.options.netns];
    const child = spawn(this.options.ipPath ?? "ip", [...args, "-force", "-batch", "-"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child = child;
    this.sent = 0;
    this.stderr = "";
    // A running ip must not keep the agent's process alive on its own.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr] as unknown as { unref?: () => void }[]) {
      stream.unref?.();
    }
    child.stdout.resume();
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      if (this.child !== child) return;
      this.stderr += chunk;
      this.check();
    });
    child.stdin.on("error", () => {
      // EPIPE when ip is gone: its exit fails the batch below.
    });
    const gone = (why: string) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.finish({ code: 1, stdout: "", stderr: `${this.stderr}\nip -batch ended (${why})`.trim() });
    };
    child.on("error", (error) => gone(error.message));
    child.on("exit", (code, signal) => gone(signal ?? `exit code ${code}`));
    return child;
  }

  /** Resolves the pending batch once its marker's failure has been read. */
  private check(): void {
    const pending = this.pending;
    if (pending === undefined) return;
    const end = `Command failed -:${pending.marker}\n`;
    const at = this.stderr.indexOf(end);
    if (at === -1) return;
    const text = this.stderr.slice(0, at);
    this.stderr = this.stderr.slice(at + end.length);
    // Everything after the last batch error is the marker's own message.
    const out: string[] = [];
    let message: string[] = [];
    for (const line of text.split("\n")) {
      const failed = /^Command failed -:(\d+)$/.exec(line.trim());
      if (failed) {
        const number = Number(failed[1]);
        if (number >= pending.first) out.push(...message, `Command failed -:${number - pending.first + 1}`);
        message = [];
      } else if (line.trim() !== "") {
        message.push(line);
      }
    }
    this.finish({ code: out.length === 0 ? 0 : 1, stdout: "", stderr: out.length === 0 ? "" : `${out.join("\n")}\n` });
  }

  private finish(result: CommandResult): void {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    pending.resolve(result);
  }
}
