import type { DesiredState } from "@switchboard/shared";
import type { FileWriter } from "./file-writer.ts";

/**
 * The agent's cache of its desired state (state/desired.json, secret mode: it holds keys).
 *
 * A full snapshot is saved at once; after a delta the save waits `delayMs` (default 1 s) and
 * takes whatever state the agent holds then, so a burst of deltas costs one JSON of the whole
 * state, not one per delta. Every save goes through FileWriter.write: temp file, fsync, rename,
 * so a reader (or a restart after a crash) sees the old file or the new one, never half.
 *
 * Why a cache older than what is applied is safe: after a crash between an apply and its save,
 * the agent restores the older revision (with the same config and route checks as any state),
 * reconciles the switch back to it, and says that revision in its hello; the API then sends the
 * delta from that revision (or a full snapshot when it no longer has it), exactly as for an
 * agent that was down. The window is at most `delayMs` of deltas.
 */
export class StateCache {
  private timer: NodeJS.Timeout | undefined;
  private pending: (() => DesiredState | undefined) | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly files: Pick<FileWriter, "write">,
    private readonly path: string,
    private readonly delayMs = 1000,
    private readonly warn: (message: string) => void = () => undefined,
  ) {}

  /** Saves `state` now (after whatever save is running). */
  save(state: DesiredState): Promise<void> {
    this.cancel();
    return this.enqueue(state);
  }

  /** Saves what `current` returns in `delayMs`; calls in between join that one save. */
  schedule(current: () => DesiredState | undefined): void {
    this.pending = current;
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => void this.flush(), this.delayMs);
  }

  /** Writes a scheduled save at once (stop), and waits for any save running. */
  async flush(): Promise<void> {
    const current = this.pending;
    this.cancel();
    const state = current?.();
    if (state !== undefined) await this.enqueue(state);
    await this.writing;
  }

  private cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private enqueue(state: DesiredState): Promise<void> {
    const run = () => this.files.write(this.path, JSON.stringify(state), "secret");
    const next = this.writing.then(run, run);
    this.writing = next.catch((error: unknown) => this.warn(`cache not saved: ${String(error)}`));
    return next;
  }
}
