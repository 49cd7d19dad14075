import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A unix-socket server that speaks like OpenVPN's management interface: greeting, optional
 * password prompt (no newline, repeated on a wrong answer), CRLF lines, and scripted replies.
 */
export interface FakeManagement {
  readonly path: string;
  /** Commands received, in order, across connections. */
  readonly received: string[];
  connections: number;
  /** Current connection, for pushing notifications or dropping it. */
  current(): Socket | undefined;
  send(text: string): void;
  close(): Promise<void>;
}

export async function startFakeManagement(
  reply: (command: string, socket: Socket) => string | undefined,
  options: { password?: string; path?: string } = {},
): Promise<FakeManagement> {
  const dir = options.path === undefined ? mkdtempSync(join(tmpdir(), "sb-fake-mgmt-")) : undefined;
  const path = options.path ?? join(dir as string, "mgmt.sock");
  const received: string[] = [];
  let socket: Socket | undefined;
  const state = { connections: 0 };
  const server: Server = createServer((conn) => {
    socket = conn;
    state.connections += 1;
    let authed = options.password === undefined;
    let buffer = "";
    conn.setEncoding("utf8");
    conn.write(
      authed ? ">INFO:OpenVPN Management Interface Version 5 -- type 'help' for more info\r\n" : "ENTER PASSWORD:",
    );
    conn.on("data", (chunk: string) => {
      buffer += chunk;
      let nl = buffer.indexOf("\n");
      while (nl !== -1) {
        const line = buffer.slice(0, nl).replace(/\r$/, "");
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf("\n");
        if (!authed) {
          if (line === options.password) {
            authed = true;
            conn.write(
              "SUCCESS: password is correct\r\n>INFO:OpenVPN Management Interface Version 5 -- type 'help' for more info\r\n",
            );
          } else {
            conn.write("ENTER PASSWORD:");
          }
          continue;
        }
        received.push(line);
        const answer = reply(line, conn);
        if (answer !== undefined) conn.write(answer);
      }
    });
    conn.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path,
    received,
    get connections() {
      return state.connections;
    },
    set connections(value: number) {
      state.connections = value;
    },
    current: () => socket,
    send: (text) => socket?.write(text),
    close: async () => {
      socket?.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}
