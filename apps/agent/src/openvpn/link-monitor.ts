import { backboneLinkPaths, type LinkEndState } from "@switchboard/shared";
import { ManagementClient } from "./management-client.ts";

export interface LinkMonitorOptions {
  readonly baseDir: string;
  /** Every link's state, whenever one goes up or down or the set of links changes. */
  readonly onChange: (links: LinkEndState[]) => void;
  /** Longest wait between attempts to reach a link's management socket; default 5 s. */
  readonly reconnectMaxMs?: number;
  /** After every state read from a link's process, changed or not: lets a caller know a read was handled. */
  readonly onRead?: (peerOffset: number, up: boolean) => void;
}

interface Watched {
  readonly client: ManagementClient;
  up: boolean;
  since: string;
}

/** `<unix time>,<STATE>,...` as `state` replies and `>STATE:` notifications carry it. */
function parseState(line: string): { up: boolean; since: string } | undefined {
  const [time, name] = line.split(",");
  if (!time || !/^[0-9]+$/.test(time) || !name) return undefined;
  return { up: name === "CONNECTED", since: new Date(Number(time) * 1000).toISOString() };
}

/**
 * Watches each backbone link's OpenVPN process through its management socket (every link config
 * has one): a link end is up while its state is CONNECTED, which OpenVPN reaches once the TLS
 * handshake with the peer is done, and leaves on ping-restart (RECONNECTING, then WAIT until the
 * peer answers again). A process that is not running does not answer, so it counts as down. The
 * same in managed and external mode: whoever runs the process, the socket is where the config says.
 */
export class LinkMonitor {
  private readonly links = new Map<number, Watched>();

  constructor(private readonly options: LinkMonitorOptions) {}

  /** Watches exactly these links (peer offsets); the same list twice changes nothing. */
  sync(peerOffsets: readonly number[]): void {
    const wanted = new Set(peerOffsets);
    let changed = false;
    for (const [offset, link] of this.links) {
      if (wanted.has(offset)) continue;
      link.client.close();
      this.links.delete(offset);
      changed = true;
    }
    for (const offset of wanted) {
      if (this.links.has(offset)) continue;
      this.links.set(offset, this.watch(offset));
      changed = true;
    }
    if (changed) this.report();
  }

  states(): LinkEndState[] {
    return [...this.links]
      .map(([peerOffset, link]) => ({ peerOffset, up: link.up, since: link.since }))
      .sort((a, b) => a.peerOffset - b.peerOffset);
  }

  close(): void {
    for (const link of this.links.values()) link.client.close();
    this.links.clear();
  }

  private watch(peerOffset: number): Watched {
    const client = new ManagementClient({
      socketPath: backboneLinkPaths({ baseDir: this.options.baseDir }, peerOffset).managementSocket,
      reconnectMaxMs: this.options.reconnectMaxMs ?? 5000,
    });
    const link: Watched = { client, up: false, since: new Date().toISOString() };
    const set = (state: { up: boolean; since: string } | undefined) => {
      if (!state || state.up === link.up || this.links.get(peerOffset) !== link) return;
      link.up = state.up;
      link.since = state.since;
      this.report();
    };
    const read = (state: { up: boolean; since: string } | undefined) => {
      const current = this.links.get(peerOffset) === link;
      set(state);
      if (state && current) this.options.onRead?.(peerOffset, state.up);
    };
    // STATE notifications read so far: tells whether one came while the `state` query was out.
    let notified = 0;
    client.on("ready", () => {
      // Notifications first, then the current state, so no change is missed. A notification read
      // after the query was sent is at least as new as its reply (one before the reply shows the
      // state the reply then repeats; one after it is newer, and may be handled before the
      // reply's callback runs): the reply only counts when none came.
      client
        .command("state on")
        .then(() => {
          const before = notified;
          return client.command("state").then((lines) => {
            if (notified === before) read(parseState(lines.at(-1) ?? ""));
          });
        })
        .catch(() => undefined); // The connection dropped; "disconnected" follows and says down.
    });
    client.on("notification", (notification) => {
      if (notification.type !== "STATE") return;
      notified += 1;
      read(parseState(notification.text));
    });
    client.on("disconnected", () => set({ up: false, since: new Date().toISOString() }));
    client.start();
    return link;
  }

  private report(): void {
    this.options.onChange(this.states());
  }
}
