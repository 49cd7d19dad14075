import { type FakeManagement, startFakeManagement } from "@switchboard/testkit/agent/fake-management";
import { describeNeeding } from "@switchboard/testkit/needs";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type ClientNotification, ManagementClient, ManagementError } from "../../src/openvpn/management-client.ts";
import { createLab, LAB_NEEDS, type Lab } from "../support/lab.ts";

const STATUS = [
  "TITLE\tOpenVPN 2.6.14",
  "TIME\t2026-01-01 00:00:00\t1767225600",
  "HEADER\tCLIENT_LIST\tCommon Name\tReal Address\tVirtual Address\tVirtual IPv6 Address\tBytes Received\tBytes Sent\tConnected Since\tConnected Since (time_t)\tUsername\tClient ID\tPeer ID\tData Channel Cipher",
  "CLIENT_LIST\ta, b\t192.0.2.1:1194\t10.0.0.2\t\t10\t20\t2026-01-01 00:00:00\t1767225600\tUNDEF\t4\t4\tAES-256-GCM",
  "END",
].join("\r\n");

function once<T>(client: ManagementClient, event: "client" | "ready" | "warning" | "disconnected"): Promise<T> {
  return new Promise((resolve) => client.once(event, (...args: unknown[]) => resolve(args[0] as T)));
}

describe("ManagementClient against a fake management socket", () => {
  let fake: FakeManagement | undefined;
  let client: ManagementClient | undefined;
  afterEach(async () => {
    client?.close();
    await fake?.close();
    client = undefined;
    fake = undefined;
  });

  it("answers the password prompt, then runs commands", async () => {
    fake = await startFakeManagement(
      (cmd) => (cmd === "signal SIGHUP" ? "SUCCESS: signal SIGHUP thrown\r\n" : undefined),
      {
        password: "s3cret",
      },
    );
    client = new ManagementClient({ socketPath: fake.path, password: "s3cret" }).start();
    await client.signal("SIGHUP");
    expect(fake.received).toEqual(["signal SIGHUP"]);
  });

  it("gives up on a refused password with a warning instead of looping", async () => {
    fake = await startFakeManagement(() => undefined, { password: "right" });
    client = new ManagementClient({ socketPath: fake.path, password: "wrong", reconnectMaxMs: 60_000 }).start();
    expect(await once<string>(client, "warning")).toBe("management password refused");
    expect(client.ready).toBe(false);
  });

  it("collects a multi-line reply up to END and parses status 3 (CN with a comma)", async () => {
    fake = await startFakeManagement((cmd) => (cmd === "status 3" ? `${STATUS}\r\n` : undefined));
    client = new ManagementClient({ socketPath: fake.path }).start();
    const status = await client.status3();
    expect(status.clients.map((c) => [c.commonName, c.clientId])).toEqual([["a, b", 4]]);
  });

  it("serialises commands: the second is sent only after the first is answered", async () => {
    const order: string[] = [];
    fake = await startFakeManagement((cmd, socket) => {
      order.push(`got ${cmd}`);
      if (cmd === "slow") {
        setTimeout(() => {
          order.push("answer slow");
          socket.write("SUCCESS: slow\r\n");
        }, 50);
        return undefined;
      }
      return `SUCCESS: ${cmd}\r\n`;
    });
    client = new ManagementClient({ socketPath: fake.path }).start();
    const [a, b] = await Promise.all([client.command("slow"), client.command("fast")]);
    expect(a).toEqual(["SUCCESS: slow"]);
    expect(b).toEqual(["SUCCESS: fast"]);
    expect(order).toEqual(["got slow", "answer slow", "got fast"]);
  });

  it("rejects on ERROR: with the command named", async () => {
    fake = await startFakeManagement(() => "ERROR: client-kill command failed\r\n");
    client = new ManagementClient({ socketPath: fake.path }).start();
    await expect(client.clientKill(99)).rejects.toThrow(/client-kill 99: ERROR: client-kill command failed/);
    await expect(client.clientKill(99, true)).rejects.toBeInstanceOf(ManagementError);
    expect(fake.received).toEqual(["client-kill 99", "client-kill 99 RESTART,[N]"]);
  });

  it("delivers >CLIENT:ESTABLISHED with its ENV block as one event, also between reply lines", async () => {
    fake = await startFakeManagement((cmd) =>
      cmd === "status 3"
        ? `TITLE\tx\r\n>CLIENT:ESTABLISHED,7\r\n>CLIENT:ENV,common_name=a=b, c\r\n>CLIENT:ENV,time_unix=1767225600\r\n>CLIENT:ENV,END\r\nEND\r\n`
        : undefined,
    );
    client = new ManagementClient({ socketPath: fake.path }).start();
    const event = once<ClientNotification>(client, "client");
    const status = await client.status3();
    expect(status.title).toBe("x");
    expect(await event).toEqual({
      event: "ESTABLISHED",
      clientId: 7,
      keyId: undefined,
      env: { common_name: "a=b, c", time_unix: "1767225600" },
    });
  });

  it("emits other notifications (>STATE, >INFO, >NOTIFY)", async () => {
    fake = await startFakeManagement(() => undefined);
    client = new ManagementClient({ socketPath: fake.path }).start();
    await client.whenReady();
    const seen = new Promise((resolve) => client?.on("notification", (n) => n.type === "NOTIFY" && resolve(n)));
    fake.send(">NOTIFY:info,remote-exit,EXIT\r\n");
    expect(await seen).toEqual({ type: "NOTIFY", text: "info,remote-exit,EXIT" });
  });

  it("reconnects after the socket drops and fails only the command in flight", async () => {
    let drop = true;
    fake = await startFakeManagement((cmd, socket) => {
      if (cmd === "version" && drop) {
        drop = false;
        socket.destroy();
        return undefined;
      }
      return "SUCCESS: ok\r\n";
    });
    client = new ManagementClient({ socketPath: fake.path, reconnectMinMs: 10, reconnectMaxMs: 20 }).start();
    await expect(client.command("version")).rejects.toThrow(/connection lost/);
    await once(client, "ready");
    expect(await client.command("version")).toEqual(["SUCCESS: ok"]);
    expect(fake.connections).toBe(2);
  });

  it("times out a command without reply and starts a fresh connection (the stream is out of step)", async () => {
    fake = await startFakeManagement((cmd) => (cmd === "hang" ? undefined : "SUCCESS: ok\r\n"));
    client = new ManagementClient({
      socketPath: fake.path,
      commandTimeoutMs: 100,
      reconnectMinMs: 10,
      reconnectMaxMs: 20,
    }).start();
    await expect(client.command("hang")).rejects.toThrow(/no reply within 100 ms/);
    await once(client, "ready");
    expect(fake.connections).toBe(2);
  });

  it("refuses a command that would smuggle a second line", async () => {
    fake = await startFakeManagement(() => "SUCCESS: ok\r\n");
    client = new ManagementClient({ socketPath: fake.path }).start();
    await expect(client.command("status 3\nsignal SIGTERM")).rejects.toThrow(/one non-empty line/);
  });

  it("fails commands fast while OpenVPN is not there, and keeps retrying", async () => {
    client = new ManagementClient({
      socketPath: "/nonexistent/sb.sock",
      reconnectMinMs: 10,
      reconnectMaxMs: 20,
    }).start();
    await expect(client.command("version")).rejects.toThrow(/connection lost/);
  });
});

/** OpenVPN on a busy machine: generous, these only catch a hang. */
const WAIT = { timeout: 60_000, interval: 25 };

describeNeeding(LAB_NEEDS, "ManagementClient against a real OpenVPN 2.6 server", () => {
  let lab: Lab;
  let client: ManagementClient;
  const seen: ClientNotification[] = [];
  beforeAll(async () => {
    lab = await createLab(["mgmt.one", "mgmt.two"]);
    await lab.startServer({ managementPassword: "lab-pass" });
    client = new ManagementClient({ socketPath: lab.paths.managementSocket, password: "lab-pass" }).start();
    client.on("client", (notification) => seen.push(notification));
    await client.whenReady(WAIT.timeout);
  });
  afterAll(async () => {
    client?.close();
    await lab?.close();
  });

  /** The first >CLIENT:ESTABLISHED for `commonName` after the `after` notifications seen so far. */
  const established = (commonName: string, after: number) =>
    vi.waitFor(() => {
      const found = seen.slice(after).find((n) => n.event === "ESTABLISHED" && n.env.common_name === commonName);
      if (!found) throw new Error(`no >CLIENT:ESTABLISHED for ${commonName} yet`);
      return found;
    }, WAIT);

  it("sees >CLIENT:ESTABLISHED with the client's env, and the client in status 3", async () => {
    const before = seen.length;
    await lab.startClient("mgmt.one");
    const event = await established("mgmt.one", before);
    expect(event.env.ifconfig_pool_remote_ip).toBe("10.100.100.210");
    const status = await client.status3();
    expect(status.clients.map((c) => [c.commonName, c.clientId])).toContainEqual(["mgmt.one", event.clientId]);
  });

  it("client-kill makes the client reconnect with a new client id, told to by the server", async () => {
    const before = seen.length;
    await lab.startClient("mgmt.two");
    const first = await established("mgmt.two", before);
    const killed = seen.length;
    await client.clientKill(first.clientId);
    const again = await established("mgmt.two", killed);
    expect(again.clientId).not.toBe(first.clientId);
    // Restarted by the server's RESTART message, not by its ping timeout running out.
    expect(lab.clientLog("mgmt.two")).toContain("SIGUSR1[soft,server-pushed-connection-reset]");
    expect(lab.clientLog("mgmt.two")).not.toContain("SIGUSR1[soft,ping-restart]");
  });

  it("survives SIGHUP on the same management session", async () => {
    await client.signal("SIGHUP");
    const status = await client.status3();
    expect(status.title).toMatch(/^OpenVPN 2\.6/);
    expect(client.ready).toBe(true);
  });
});
