import { EventEmitter } from "node:events";
import { createConnection, type Socket } from "node:net";
import { parseStatus3, type Status3 } from "./status-parser.ts";

/**
 * The agent's ONE connection to an OpenVPN management interface (a unix socket). OpenVPN serves
 * one management session at a time and queues a second one silently, so the agent keeps this
 * connection open, serialises commands through a queue, and reconnects with backoff when the
 * socket drops (OpenVPN restarting, SIGHUP does not drop it).
 *
 * Wire format (OpenVPN 2.6, OPENVPN-NOTES.md): lines end in CRLF; a command is answered by one
 * `SUCCESS: ...` / `ERROR: ...` line or by lines ending with `END`; lines starting with `>` are
 * real-time notifications that may arrive between replies. `>CLIENT:<EVENT>,...` is followed by
 * `>CLIENT:ENV,k=v` lines up to `>CLIENT:ENV,END`. With a password, OpenVPN first sends
 * `ENTER PASSWORD:` with no line end; a wrong one repeats the prompt.
 */

export class ManagementError extends Error {
  override readonly name = "ManagementError";
}

/** A `>CLIENT:` notification with its environment (ESTABLISHED, CONNECT, REAUTH, DISCONNECT, CR_RESPONSE). */
export interface ClientNotification {
  readonly event: string;
  readonly clientId: number;
  /** Key id for CONNECT/REAUTH/CR_RESPONSE; undefined otherwise. */
  readonly keyId: number | undefined;
  readonly env: Readonly<Record<string, string>>;
}

/** Any other `>TYPE:text` line (INFO, STATE, NOTIFY, LOG, HOLD, BYTECOUNT_CLI, ...). */
export interface Notification {
  readonly type: string;
  readonly text: string;
}

export interface ManagementEvents {
  ready: [];
  disconnected: [reason: string];
  client: [notification: ClientNotification];
  notification: [notification: Notification];
  /** Something odd that does not stop the client (unexpected line, wrong password, ...). */
  warning: [message: string];
}

export type SignalName = "SIGHUP" | "SIGTERM" | "SIGUSR1" | "SIGUSR2";

export interface ManagementClientOptions {
  readonly socketPath: string;
  readonly password?: string | undefined;
  /** From enqueueing to the full reply; on expiry the connection is reset (the stream is out of step). */
  readonly commandTimeoutMs?: number;
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Injected for tests; Math.random otherwise. */
  readonly random?: () => number;
}

interface Pending {
  readonly line: string;
  readonly resolve: (lines: string[]) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
  readonly reply: string[];
}

const PROMPT = "ENTER PASSWORD:";

export class ManagementClient extends EventEmitter<ManagementEvents> {
  private readonly options: Required<Omit<ManagementClientOptions, "password">> & { password: string | undefined };
  private socket: Socket | undefined;
  private buffer = "";
  private isReady = false;
  private closed = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private passwordSent = false;
  private readonly queue: Pending[] = [];
  private inflight: Pending | undefined;
  private clientBlock:
    | { event: string; clientId: number; keyId: number | undefined; env: Record<string, string> }
    | undefined;

  constructor(options: ManagementClientOptions) {
    super();
    this.options = {
      socketPath: options.socketPath,
      password: options.password,
      commandTimeoutMs: options.commandTimeoutMs ?? 5000,
      reconnectMinMs: options.reconnectMinMs ?? 100,
      reconnectMaxMs: options.reconnectMaxMs ?? 5000,
      random: options.random ?? Math.random,
    };
  }

  get ready(): boolean {
    return this.isReady;
  }

  /** Connects, and keeps reconnecting until close(). */
  start(): this {
    if (!this.closed && this.socket === undefined && this.reconnectTimer === undefined) this.connect();
    return this;
  }

  close(): void {
    this.closed = true;
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.socket?.destroy();
    this.failAll(new ManagementError("management client closed"));
  }

  /** Resolves at the next `ready` (at once if connected). */
  whenReady(timeoutMs = this.options.commandTimeoutMs): Promise<void> {
    if (this.isReady) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off("ready", onReady);
        reject(new ManagementError(`management interface not ready after ${timeoutMs} ms`));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.once("ready", onReady);
    });
  }

  /** Sends one command line; resolves with the reply lines (one `SUCCESS:` line, or the lines before END). */
  command(line: string): Promise<string[]> {
    if (/[\r\n]/.test(line) || line.length === 0 || line.length > 1024) {
      return Promise.reject(new ManagementError("a management command is one non-empty line"));
    }
    if (this.closed) return Promise.reject(new ManagementError("management client closed"));
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        line,
        resolve,
        reject,
        reply: [],
        timer: setTimeout(() => this.timeout(pending), this.options.commandTimeoutMs),
      };
      this.queue.push(pending);
      this.pump();
    });
  }

  async status3(): Promise<Status3> {
    return parseStatus3(await this.command("status 3"));
  }

  /**
   * `client-kill <cid>` sends the client RESTART, so it reconnects in about a second (`kill <cn>`
   * would leave a UDP client waiting for ping-restart, and a CN with ':' cannot be named).
   * `RESTART,[N]` makes it move to its next `remote`: a clean roam to another switch.
   */
  async clientKill(clientId: number, nextRemote = false): Promise<void> {
    if (!Number.isSafeInteger(clientId) || clientId < 0) throw new ManagementError(`not a client id: ${clientId}`);
    await this.command(nextRemote ? `client-kill ${clientId} RESTART,[N]` : `client-kill ${clientId}`);
  }

  /** SIGHUP re-reads the config and drops every client; the management session survives it. */
  async signal(name: SignalName): Promise<void> {
    if (!["SIGHUP", "SIGTERM", "SIGUSR1", "SIGUSR2"].includes(name)) throw new ManagementError(`not a signal: ${name}`);
    await this.command(`signal ${name}`);
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    this.buffer = "";
    this.passwordSent = false;
    this.clientBlock = undefined;
    const socket = createConnection(this.options.socketPath);
    this.socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.receive(chunk));
    socket.on("error", () => {
      // The close event follows and carries the consequences; ENOENT/ECONNREFUSED while OpenVPN restarts are normal.
    });
    socket.on("close", () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      const wasReady = this.isReady;
      this.isReady = false;
      this.failAll(new ManagementError("management connection lost"));
      if (wasReady) this.emit("disconnected", "socket closed");
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer !== undefined) return;
    // Full jitter: several agents restarting with one OpenVPN do not retry in step.
    const cap = Math.min(this.options.reconnectMaxMs, this.options.reconnectMinMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    const delay = Math.max(this.options.reconnectMinMs / 2, this.options.random() * cap);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let newline = this.buffer.indexOf("\n");
    while (newline !== -1) {
      let line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      this.line(line);
      newline = this.buffer.indexOf("\n");
    }
    // The password prompt is the one thing OpenVPN sends without a line end.
    if (this.buffer === PROMPT) {
      this.buffer = "";
      this.prompt();
    }
  }

  private prompt(): void {
    const socket = this.socket;
    if (socket === undefined) return;
    if (this.options.password === undefined || this.passwordSent) {
      // Three wrong answers close the session anyway; stop here and back off to the maximum.
      this.emit(
        "warning",
        this.passwordSent ? "management password refused" : "management interface asks for a password; none configured",
      );
      this.attempt = 30;
      socket.destroy();
      return;
    }
    this.passwordSent = true;
    socket.write(`${this.options.password}\n`);
  }

  private line(line: string): void {
    if (line.startsWith(">")) {
      this.notification(line);
      return;
    }
    if (this.clientBlock !== undefined) {
      // A reply line in the middle of an ENV block would be a protocol break; do not glue them.
      this.emit("warning", `ENV block of client ${this.clientBlock.clientId} interrupted`);
      this.clientBlock = undefined;
    }
    if (line.startsWith(PROMPT)) {
      this.prompt();
      return;
    }
    if (!this.isReady && line.startsWith("SUCCESS: password")) return;
    const pending = this.inflight;
    if (pending === undefined) {
      if (line !== "") this.emit("warning", `unexpected management line: ${line.slice(0, 200)}`);
      return;
    }
    if (pending.reply.length === 0 && (line.startsWith("SUCCESS:") || line.startsWith("ERROR:"))) {
      this.finish(pending, line.startsWith("SUCCESS:") ? undefined : new ManagementError(`${pending.line}: ${line}`), [
        line,
      ]);
      return;
    }
    if (line === "END") {
      this.finish(pending, undefined, pending.reply);
      return;
    }
    pending.reply.push(line);
  }

  private notification(line: string): void {
    const colon = line.indexOf(":");
    const type = colon === -1 ? line.slice(1) : line.slice(1, colon);
    const text = colon === -1 ? "" : line.slice(colon + 1);
    if (type === "CLIENT") {
      this.clientNotification(text);
      return;
    }
    if (type === "INFO" && !this.isReady) {
      // The greeting: the session is ours from here on.
      this.isReady = true;
      this.attempt = 0;
      this.emit("ready");
      this.pump();
    }
    this.emit("notification", { type, text });
  }

  private clientNotification(text: string): void {
    const block = this.clientBlock;
    if (text.startsWith("ENV,")) {
      if (block === undefined) {
        this.emit("warning", "CLIENT:ENV line outside a client notification");
        return;
      }
      const pair = text.slice(4);
      if (pair === "END") {
        this.clientBlock = undefined;
        this.emit("client", block);
        return;
      }
      const eq = pair.indexOf("=");
      if (eq > 0) block.env[pair.slice(0, eq)] = pair.slice(eq + 1);
      return;
    }
    const [event = "", cid, kid] = text.split(",");
    const clientId = Number(cid);
    if (!/^[0-9]+$/.test(cid ?? "")) {
      this.emit("warning", `unreadable client notification: ${text.slice(0, 200)}`);
      return;
    }
    const keyId = kid !== undefined && /^[0-9]+$/.test(kid) ? Number(kid) : undefined;
    if (event === "ADDRESS") {
      // The one CLIENT notification without an ENV block.
      this.emit("client", { event, clientId, keyId: undefined, env: {} });
      return;
    }
    if (block !== undefined) this.emit("warning", `ENV block of client ${block.clientId} not terminated`);
    this.clientBlock = { event, clientId, keyId, env: {} };
  }

  private pump(): void {
    if (!this.isReady || this.inflight !== undefined || this.socket === undefined) return;
    const next = this.queue.shift();
    if (next === undefined) return;
    this.inflight = next;
    this.socket.write(`${next.line}\n`);
  }

  private finish(pending: Pending, error: Error | undefined, lines: string[]): void {
    clearTimeout(pending.timer);
    if (this.inflight === pending) this.inflight = undefined;
    if (error) pending.reject(error);
    else pending.resolve(lines);
    this.pump();
  }

  private timeout(pending: Pending): void {
    const index = this.queue.indexOf(pending);
    if (index !== -1) this.queue.splice(index, 1);
    pending.reject(new ManagementError(`${pending.line}: no reply within ${this.options.commandTimeoutMs} ms`));
    if (this.inflight === pending) {
      // A late reply would be taken for the next command's: start over on a fresh connection.
      this.inflight = undefined;
      this.socket?.destroy();
    }
  }

  private failAll(error: Error): void {
    const all = [...(this.inflight ? [this.inflight] : []), ...this.queue.splice(0)];
    this.inflight = undefined;
    for (const pending of all) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
  }
}
