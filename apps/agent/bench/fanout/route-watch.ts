/**
 * Matches what the fake kernels see against what each event must change, and times it: an
 * event is done when every peer that must change has applied its line. A connect or roam to
 * switch S is `route replace|add <host>/32 via <S's backbone address>` at every switch but S; a
 * disconnect from S is `route del <host>/32` at every switch but S (S never had a route to its
 * own client). Expectations are registered before the hook line is written, so a matching line
 * can only be this event's doing. Times are epoch milliseconds with sub-millisecond precision
 * (performance.timeOrigin + now), comparable across the bench's processes.
 */

export type EventKind = "connect" | "roam" | "disconnect";

export interface Expectation {
  readonly id: number;
  readonly kind: EventKind;
  /** `<address>/32`. */
  readonly destination: string;
  /** The switch the event happened at (excluded from the peers). */
  readonly switchIndex: number;
  /** The via every peer's route must take; null for a withdrawal. */
  readonly via: string | null;
}

interface Pending extends Expectation {
  /** When the hook line was written; undefined until the writer says. */
  stamp: number | undefined;
  readonly remaining: Set<number>;
  lastAt: number;
  /** Measured: excluded from the figures (warm-up). */
  readonly measured: boolean;
}

export interface Outcome {
  readonly kind: EventKind;
  readonly latencyMs: number;
}

export const epochNow = (): number => performance.timeOrigin + performance.now();

export class RouteWatch {
  private readonly pending = new Map<string, Pending>();
  private readonly byId = new Map<number, Pending>();
  readonly outcomes: Outcome[] = [];
  /** Events whose host had its next event before this one reached every peer. */
  superseded = 0;
  /** Measured events whose hook line the FIFO refused (pipe full): lost at their source, as OpenVPN's hook would lose them. */
  droppedAtHook = 0;
  /** Lines the kernels applied, all switches together. */
  lines = 0;

  constructor(private readonly switchCount: number) {}

  get open(): number {
    return this.pending.size;
  }

  openOf(measured: boolean): Pending[] {
    return [...this.pending.values()].filter((p) => p.measured === measured);
  }

  expect(expectation: Expectation, measured: boolean): void {
    const previous = this.pending.get(expectation.destination);
    if (previous !== undefined) {
      if (previous.measured) this.superseded += 1;
      this.forget(previous);
    }
    const remaining = new Set<number>();
    for (let i = 0; i < this.switchCount; i++) if (i !== expectation.switchIndex) remaining.add(i);
    const entry: Pending = { ...expectation, stamp: undefined, remaining, lastAt: 0, measured };
    this.pending.set(expectation.destination, entry);
    this.byId.set(expectation.id, entry);
  }

  /** The writer's stamp for an event; a hook line the pipe refused (`stamp` null) is forgotten: lost at its source. */
  stamped(id: number, stamp: number | null): void {
    const entry = this.byId.get(id);
    if (entry === undefined) return;
    if (stamp === null) {
      if (entry.measured) this.droppedAtHook += 1;
      this.forget(entry);
      return;
    }
    entry.stamp = stamp;
    this.finishIfDone(entry);
  }

  /** One `ip -force -batch -` input at switch `switchIndex`, applied at `at`. */
  onBatch(switchIndex: number, lines: readonly string[], at: number): void {
    this.lines += lines.length;
    for (const line of lines) {
      const words = line.split(" ");
      const destination = words[2];
      if (destination === undefined || !destination.endsWith("/32")) continue;
      const entry = this.pending.get(destination);
      if (entry === undefined || !entry.remaining.has(switchIndex)) continue;
      const verb = words[1];
      const matches =
        entry.via === null
          ? verb === "del"
          : (verb === "replace" || verb === "add") && words[words.indexOf("via") + 1] === entry.via;
      if (!matches) continue;
      entry.remaining.delete(switchIndex);
      entry.lastAt = Math.max(entry.lastAt, at);
      this.finishIfDone(entry);
    }
  }

  private finishIfDone(entry: Pending): void {
    if (entry.remaining.size > 0 || entry.stamp === undefined) return;
    if (entry.measured) this.outcomes.push({ kind: entry.kind, latencyMs: entry.lastAt - entry.stamp });
    this.forget(entry);
  }

  private forget(entry: Pending): void {
    if (this.pending.get(entry.destination) === entry) this.pending.delete(entry.destination);
    this.byId.delete(entry.id);
  }
}
