import type { LiveMessage } from "@switchboard/shared";

export type LiveListener = (message: LiveMessage) => void;

/**
 * The console's live feed inside one API process: sources (sessions, agents, links, committed
 * changes) publish, the open console sockets listen. Synchronous and in memory; with nobody
 * listening a source can skip building its messages (`listening`).
 */
export class LiveBus {
  private readonly listeners = new Set<LiveListener>();

  get listening(): boolean {
    return this.listeners.size > 0;
  }

  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(message: LiveMessage): void {
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch {
        // One broken listener must not starve the others, nor the source that published.
      }
    }
  }
}
