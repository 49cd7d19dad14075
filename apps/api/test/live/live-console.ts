import { FormatRegistry } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { type LiveMessage, LiveMessageSchema } from "@switchboard/shared";
import { openRawSocket, type RawSocket } from "@switchboard/testkit/agent/raw-socket";
import { vi } from "vitest";
import type { LiveApi } from "../support/live-api.ts";
import { patiently } from "../support/waits.ts";

// The compiled checker knows no formats by itself; these are loose on purpose (shape, not calendar).
if (!FormatRegistry.Has("uuid"))
  FormatRegistry.Set("uuid", (v) => /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i.test(v));
if (!FormatRegistry.Has("date-time")) FormatRegistry.Set("date-time", (v) => !Number.isNaN(Date.parse(v)));
const checkLive = TypeCompiler.Compile(LiveMessageSchema);

export function liveUrl(live: LiveApi): string {
  return `${live.url.replace(/^http/, "ws")}/api/live`;
}

/** A console's live socket: every frame received, checked against the contract. */
export interface LiveConsole {
  readonly raw: RawSocket;
  /** Position in the frames received so far, to wait for what comes after it. */
  mark(): number;
  /** The first frame after `from` that matches; fails after `timeoutMs` (default: a hang). */
  next<T extends LiveMessage["type"]>(
    type: T,
    test?: (message: Extract<LiveMessage, { type: T }>) => boolean,
    from?: number,
    timeoutMs?: number,
  ): Promise<Extract<LiveMessage, { type: T }>>;
  /** Frames received after `from`, of one type. */
  since<T extends LiveMessage["type"]>(type: T, from: number): Extract<LiveMessage, { type: T }>[];
  /** Frames that break the contract (should stay empty). */
  invalid(): unknown[];
  close(): void;
}

export async function openConsole(live: LiveApi, headers: Record<string, string>): Promise<LiveConsole> {
  const raw = await openRawSocket(liveUrl(live), headers);
  const frames = () => raw.received as unknown as LiveMessage[];
  return {
    raw,
    mark: () => raw.received.length,
    next: (type, test = () => true, from = 0, timeoutMs = patiently.timeout) =>
      vi.waitFor(
        () => {
          const found = frames()
            .slice(from)
            .find((f) => f.type === type && test(f as never));
          if (!found) throw new Error(`no matching ${type} message; got ${JSON.stringify(frames().slice(from))}`);
          return found as never;
        },
        { ...patiently, timeout: timeoutMs },
      ),
    since: (type, from) =>
      frames()
        .slice(from)
        .filter((f) => f.type === type) as never,
    invalid: () => raw.received.filter((f) => !checkLive.Check(f)),
    close: () => raw.socket.close(),
  };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
