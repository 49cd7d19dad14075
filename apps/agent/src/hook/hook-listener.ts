import { constants, openSync } from "node:fs";
import { lstat, mkdir, unlink } from "node:fs/promises";
import { Socket } from "node:net";
import { dirname } from "node:path";
import { OPENVPN_GROUP } from "@switchboard/shared";
import type { CommandRunner } from "../system/command-runner.ts";
import { letGroupWrite } from "./fifo-access.ts";
import { type HookEvent, parseHookLine } from "./hook-line.ts";

/**
 * The agent's end of the hook FIFO (hook-script.ts explains the choice). Opened read-write so
 * the agent is also a writer: it never sees end-of-file when a hook closes, and hooks find a
 * reader for as long as the agent lives. Read through a net.Socket (libuv pipe), not a file
 * stream, so no thread-pool thread ever blocks on the FIFO. Each complete line becomes an event
 * at once. The hook runs as OpenVPN's unprivileged group, which gets write access (fifo-access.ts).
 */
export class HookListener {
  private socket: Socket | undefined;
  private buffer = "";

  constructor(
    private readonly fifoPath: string,
    private readonly runner: CommandRunner,
    private readonly onEvent: (event: HookEvent, receivedAt: number) => void,
    private readonly onWarning: (message: string) => void = () => undefined,
    private readonly writerGroup: string = OPENVPN_GROUP,
  ) {}

  async start(): Promise<void> {
    // On a fresh switch the agent's folder does not exist until the first state arrives. OpenVPN
    // (as nobody) must pass through it to the hook, ccd/ and the CRL; the keys in it are 0600.
    await mkdir(dirname(this.fifoPath), { recursive: true, mode: 0o755 });
    const stat = await lstat(this.fifoPath).catch(() => undefined);
    if (stat !== undefined && !stat.isFIFO()) await unlink(this.fifoPath);
    if (stat === undefined || !stat.isFIFO()) {
      // Node has no mkfifo(3); the coreutils program is always there where the hook's dd is.
      const made = await this.runner.run("mkfifo", ["-m", "0600", this.fifoPath]);
      if (made.code !== 0) throw new Error(`mkfifo ${this.fifoPath} failed: ${made.stderr.trim()}`);
    }
    const denied = await letGroupWrite(this.fifoPath, this.writerGroup, this.runner);
    if (denied !== undefined) this.onWarning(denied);
    // A raw descriptor, owned by the socket from here on (a FileHandle would close it a second time).
    const fd = openSync(this.fifoPath, constants.O_RDWR | constants.O_NONBLOCK);
    const socket = new Socket({ fd, readable: true, writable: false });
    this.socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.receive(chunk));
    socket.on("error", (error) => this.onWarning(`hook FIFO: ${error.message}`));
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let newline = this.buffer.indexOf("\n");
    while (newline !== -1) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      const event = parseHookLine(line);
      if (event === undefined) this.onWarning(`unreadable hook line: ${JSON.stringify(line.slice(0, 200))}`);
      else this.onEvent(event, Date.now());
      newline = this.buffer.indexOf("\n");
    }
    if (this.buffer.length > 65536) this.buffer = "";
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }
}
