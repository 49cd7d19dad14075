import { type ChildProcess, spawn } from "node:child_process";
import { Backoff } from "../channel/backoff.ts";

/** How a supervised program is started; tests pass a fake. */
export type Spawner = (command: string, args: readonly string[]) => ChildProcess;

export const spawnProcess: Spawner = (command, args) =>
  spawn(command, [...args], { stdio: ["ignore", "inherit", "inherit"], detached: false });

export interface SupervisorOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly spawn?: Spawner;
  readonly backoff?: { readonly baseMs: number; readonly capMs: number };
  /** A run this long counts as healthy: the next crash restarts from the shortest delay again. */
  readonly stableAfterMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  readonly stopTimeoutMs?: number;
  readonly log?: { info(message: string): void; warn(message: string): void };
}

/**
 * Keeps one program running: restarts it when it exits, after a full-jitter backoff that grows
 * while it keeps failing (a broken config must not become a fork loop) and starts over once a
 * run has lasted `stableAfterMs`. stop() ends it for good: SIGTERM (OpenVPN then tells its
 * clients to move to their next switch), SIGKILL if it lingers.
 */
export class ProcessSupervisor {
  private child: ChildProcess | undefined;
  private stopping = false;
  /** Set by restart(): the next exit starts the program again at once, with no backoff. */
  private restarting = false;
  private retry: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  /** Starts so far, for diagnostics and tests. */
  starts = 0;

  constructor(private readonly options: SupervisorOptions) {
    this.backoff = new Backoff(options.backoff ?? { baseMs: 1000, capMs: 60_000 });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.child || this.retry) return;
    this.stopping = false;
    this.launch();
  }

  /** Sends a signal to the running program (a reload is restart(), see there). */
  signal(name: NodeJS.Signals): boolean {
    return this.running ? (this.child as ChildProcess).kill(name) : false;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retry);
    this.retry = undefined;
    await this.terminate();
  }

  /**
   * Ends the program and starts it again at once. This is how a reload is done: OpenVPN reads
   * its config and keys as root only at start (after that it runs as nobody), so its own SIGHUP
   * restart cannot read the 0600 keys again and exits. Not running (or waiting out a backoff):
   * the next start reads the new files anyway.
   */
  async restart(): Promise<void> {
    if (this.stopping || !this.running) return;
    this.restarting = true;
    await this.terminate();
  }

  private async terminate(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill("SIGKILL"), this.options.stopTimeoutMs ?? 10_000);
      child.once("exit", () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill("SIGTERM");
    });
  }

  private launch(): void {
    const log = this.options.log;
    const startedAt = Date.now();
    const child = (this.options.spawn ?? spawnProcess)(this.options.command, this.options.args);
    this.child = child;
    this.starts += 1;
    child.once("error", (error) => log?.warn(`${this.options.name}: ${error.message}`));
    child.once("exit", (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.stopping) return;
      if (this.restarting) {
        this.restarting = false;
        log?.info(`${this.options.name} restarted to reload its files`);
        this.launch();
        return;
      }
      if (Date.now() - startedAt >= (this.options.stableAfterMs ?? 60_000)) this.backoff.reset();
      const delay = this.backoff.next();
      log?.warn(`${this.options.name} exited (${signal ?? `code ${code}`}); restarting in ${delay} ms`);
      this.retry = setTimeout(() => {
        this.retry = undefined;
        if (!this.stopping) this.launch();
      }, delay);
    });
  }
}
