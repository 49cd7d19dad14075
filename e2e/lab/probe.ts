import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { sleep } from "@switchboard/testkit/wait";
import type { LabHostState } from "./state.ts";
import { assertMaySpawn } from "./system.ts";

/**
 * A continuous ping from one host to an address, 100 a second, keeping the time of every
 * answer (ping -D stamps each reply line). Outages and convergence are read off these
 * timestamps, so the measurement's resolution is the 10 ms interval.
 */
export class Prober {
  readonly replies: number[] = [];
  private readonly child: ChildProcess;

  constructor(
    from: LabHostState,
    readonly target: string,
    intervalS = 0.01,
  ) {
    assertMaySpawn(`ping in ${from.netns}`);
    this.child = spawn("ip", ["netns", "exec", from.netns, "ping", "-D", "-n", "-i", String(intervalS), target], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    const lines = createInterface({ input: this.child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      const match = /^\[(\d+\.\d+)\] \d+ bytes from/.exec(line);
      if (match) this.replies.push(Math.round(Number(match[1]) * 1000));
    });
  }

  firstReplyAfter(ms: number): number | undefined {
    return this.replies.find((t) => t > ms);
  }

  async waitReplyAfter(ms: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = this.firstReplyAfter(ms);
      if (reply !== undefined) return reply;
      if (Date.now() > deadline) throw new Error(`no answer from ${this.target} within ${timeoutMs} ms`);
      await sleep(5);
    }
  }

  /** The longest silence between answers that began at or after `from` (ms); undefined without answers after it. */
  longestGapAfter(from: number): number | undefined {
    let previous = this.replies.filter((t) => t <= from).at(-1) ?? from;
    let longest: number | undefined;
    for (const t of this.replies) {
      if (t <= from) continue;
      longest = Math.max(longest ?? 0, t - previous);
      previous = t;
    }
    return longest;
  }

  stop(): void {
    if (this.child.pid !== undefined) this.child.kill("SIGTERM");
  }
}
