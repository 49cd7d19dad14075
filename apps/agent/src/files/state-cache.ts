import type { DesiredState, DesiredStateDelta } from "@switchboard/shared";
import type { FileWriter } from "./file-writer.ts";

/**
 * The agent's cache of its desired state, in two files, both secret mode (they hold keys):
 * `state/desired.json`, a full snapshot written atomically (FileWriter.write: temp, fsync,
 * rename), and `state/desired.journal`, one JSON delta per line appended after it. A delta costs
 * one small append, not a JSON of the whole state (about 50 ms at 50,000 hosts, which stalled
 * every delta queued behind it). The journal is folded into a new snapshot after
 * `maxJournalEntries` deltas (debounced by `delayMs`), at a full snapshot, and at stop.
 *
 * Every write runs in call order on one chain: a snapshot holds every delta recorded before it
 * and removes the journal those deltas were appended to; deltas recorded after it append to a
 * new journal. The journal is not flushed per line: a crash may lose its tail or leave half a
 * line, and `readCache` stops at the first line it cannot parse or that does not chain.
 *
 * Why a cache older than what is applied is safe: after a crash the agent restores the older
 * revision (with the same config and route checks as any state), reconciles the switch back to
 * it, and says that revision in its hello; the API then sends the delta from that revision (or a
 * full snapshot when it no longer has it), exactly as for an agent that was down.
 */
export class StateCache {
  private timer: NodeJS.Timeout | undefined;
  private pending: (() => DesiredState | undefined) | undefined;
  private writing: Promise<void> = Promise.resolve();
  private journalEntries = 0;

  constructor(
    private readonly files: Pick<FileWriter, "write" | "append" | "remove">,
    private readonly path: string,
    private readonly delayMs = 1000,
    private readonly warn: (message: string) => void = () => undefined,
    private readonly maxJournalEntries = 1000,
  ) {}

  get journalPath(): string {
    return journalPathOf(this.path);
  }

  /** Saves `state` now as the snapshot (after whatever write is queued), and starts a new journal. */
  save(state: DesiredState): Promise<void> {
    this.cancel();
    return this.enqueueSnapshot(state);
  }

  /** Appends a delta the agent now holds; a long journal is folded into a snapshot of `current` soon. */
  record(delta: DesiredStateDelta, current: () => DesiredState | undefined): void {
    const line = `${JSON.stringify(delta)}\n`;
    this.journalEntries += 1;
    this.enqueue(() => this.files.append(this.journalPath, line, "secret"));
    if (this.journalEntries >= this.maxJournalEntries) this.schedule(current);
  }

  /** Saves what `current` returns in `delayMs` as the snapshot; calls in between join that one save. */
  schedule(current: () => DesiredState | undefined): void {
    this.pending = current;
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => void this.flush(), this.delayMs);
  }

  /** Writes a scheduled snapshot at once, or folds a non-empty journal (stop), and waits for every write. */
  async flush(current?: () => DesiredState | undefined): Promise<void> {
    const take = this.pending ?? (this.journalEntries > 0 ? current : undefined);
    this.cancel();
    const state = take?.();
    if (state !== undefined) await this.enqueueSnapshot(state);
    await this.writing;
  }

  private cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private enqueueSnapshot(state: DesiredState): Promise<void> {
    this.journalEntries = 0;
    return this.enqueue(async () => {
      await this.files.write(this.path, JSON.stringify(state), "secret");
      await this.files.remove(this.journalPath);
    });
  }

  private enqueue(run: () => Promise<unknown>): Promise<void> {
    const next = this.writing.then(run, run).then(() => undefined);
    this.writing = next.catch((error: unknown) => this.warn(`cache not saved: ${String(error)}`));
    return next;
  }
}

export function journalPathOf(snapshotPath: string): string {
  return snapshotPath.replace(/\.json$/, ".journal");
}

/** The journal's lines as parsed JSON, up to the first that does not parse (a torn tail). */
export function parseJournal(text: string): unknown[] {
  const entries: unknown[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    try {
      entries.push(JSON.parse(line));
    } catch {
      break;
    }
  }
  return entries;
}
