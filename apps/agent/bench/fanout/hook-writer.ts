/**
 * The storm's source, in its own process so that the agents' work never delays it: it plays
 * OpenVPN's client hook on every switch, writing real hook lines into each agent's FIFO (one
 * write per line, non-blocking, as the hook's dd does), and stamps each line when written. A
 * line the pipe refuses (full) is lost at its source, as OpenVPN's would be. Talks to the bench
 * over IPC: before writing a tick's lines it says what they are (so expectations and the fake
 * status 3 are in place first), after writing it sends their stamps.
 */
import { closeSync, constants, openSync, writeSync } from "node:fs";
import type { Shares } from "./config.ts";
import { epochNow } from "./route-watch.ts";
import { hookLine, type PlannedEvent, Workload } from "./workload.ts";

export interface WriterInit {
  readonly type: "init";
  readonly hosts: readonly (readonly [commonName: string, address: string])[];
  readonly fifos: readonly string[];
  readonly restMs: number;
}

export interface WriterRun {
  readonly type: "run";
  readonly phase: "warm-up" | "storm";
  readonly rate: number;
  /** Stop after this many events, or after `seconds`, whichever comes first. */
  readonly events: number;
  readonly seconds: number;
  readonly shares: Shares;
}

export type WriterReport =
  | { readonly type: "events"; readonly measured: boolean; readonly events: readonly PlannedEvent[] }
  | { readonly type: "stamps"; readonly stamps: readonly (readonly [id: number, stamp: number | null])[] }
  | {
      readonly type: "done";
      readonly phase: WriterRun["phase"];
      readonly sent: number;
      readonly seconds: number;
      readonly counts: Record<string, number>;
      readonly refused: number;
    };

const TICK_MS = 10;

let hosts: WriterInit["hosts"] = [];
let fds: number[] = [];
let workload: Workload | undefined;

function send(report: WriterReport): void {
  process.send?.(report);
}

/** One hook line into one FIFO; false when the pipe refused it. */
function write(fd: number, line: string): boolean {
  try {
    writeSync(fd, line);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EAGAIN") return false;
    throw error;
  }
}

async function run(command: WriterRun): Promise<void> {
  if (workload === undefined) throw new Error("run before init");
  const plan = workload;
  const measured = command.phase === "storm";
  const started = performance.now();
  let sent = 0;
  let refused = 0;
  const before = { ...plan.counts };
  for (;;) {
    const elapsed = performance.now() - started;
    if (sent >= command.events || elapsed >= command.seconds * 1000) break;
    const due = Math.min(command.events, Math.floor((elapsed / 1000) * command.rate) + 1);
    const events: PlannedEvent[] = [];
    for (const now = epochNow(); sent + events.length < due; ) {
      const event = plan.next(now, command.shares);
      if (event === undefined) break;
      events.push(event);
    }
    if (events.length > 0) {
      send({ type: "events", measured, events });
      const stamps: [number, number | null][] = [];
      for (const event of events) {
        const [commonName, address] = hosts[event.host] as readonly [string, string];
        const connect = event.kind !== "disconnect";
        const line = hookLine(
          connect ? "client-connect" : "client-disconnect",
          commonName,
          event.connectedAt,
          event.clientId,
          address,
        );
        const ok = write(fds[event.switchIndex] as number, line);
        stamps.push([event.id, ok ? epochNow() : null]);
        if (!ok) refused += 1;
        // A roam: the old switch's OpenVPN sees the old session end (explicit-exit-notify, or its keepalive).
        if (event.fromSwitch !== null && event.endedConnectedAt !== null) {
          const bye = hookLine("client-disconnect", commonName, event.endedConnectedAt, event.clientId, address);
          if (!write(fds[event.fromSwitch] as number, bye)) refused += 1;
        }
      }
      send({ type: "stamps", stamps });
      sent += events.length;
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  const counts = Object.fromEntries(
    Object.entries(plan.counts).map(([k, v]) => [k, v - (before[k as keyof typeof before] ?? 0)]),
  );
  send({ type: "done", phase: command.phase, sent, seconds: (performance.now() - started) / 1000, counts, refused });
}

process.on("message", (message: WriterInit | WriterRun | { type: "exit" }) => {
  if (message.type === "init") {
    hosts = message.hosts;
    fds = message.fifos.map((fifo) => openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    workload = new Workload(hosts.length, fds.length, message.restMs);
    process.send?.({ type: "ready" });
  } else if (message.type === "run") {
    run(message).catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  } else {
    for (const fd of fds) closeSync(fd);
    process.exit(0);
  }
});
// The bench gone: nothing to write for.
process.on("disconnect", () => process.exit(0));
