import { execFileSync } from "node:child_process";
import { mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeManagement, startFakeManagement } from "./fake-management.ts";

/**
 * What OpenVPN would do on one switch, without OpenVPN: a fake management interface at the
 * agent's socket path (connects arrive as >CLIENT:ESTABLISHED with a client id, client-kill is
 * recorded, `status 3` lists the clients connected and not disconnected), and disconnects
 * through the agent's real client hook program.
 */
export interface SwitchSim {
  readonly baseDir: string;
  readonly management: FakeManagement;
  connect(commonName: string, clientId: number, connectedAtSeconds: number): void;
  disconnect(commonName: string, connectedAtSeconds: number): void;
  close(): Promise<void>;
}

/**
 * `status 3` as OpenVPN 2.6 prints it (no HEADER rows: the parser then assumes 2.6's column order).
 * The port is derived from the client id, kept within the port range for benches with many clients.
 */
export function status3(clients: ReadonlyMap<string, { clientId: number; connectedAt: number }>): string {
  const now = Math.floor(Date.now() / 1000);
  const rows = [...clients].map(([commonName, { clientId, connectedAt }]) =>
    [
      "CLIENT_LIST",
      commonName,
      `198.51.100.7:${40_000 + (clientId % 20_000)}`,
      "",
      "",
      "1000",
      "2000",
      new Date(connectedAt * 1000).toISOString(),
      String(connectedAt),
      "UNDEF",
      String(clientId),
      String(clientId),
      "AES-256-GCM",
    ].join("\t"),
  );
  return ["TITLE\tfake", `TIME\t${new Date(now * 1000).toISOString()}\t${now}`, ...rows, "END", ""].join("\r\n");
}

export async function startSwitchSim(): Promise<SwitchSim> {
  const baseDir = mkdtempSync(join(tmpdir(), "sb-switch-sim-"));
  const clients = new Map<string, { clientId: number; connectedAt: number }>();
  const management = await startFakeManagement((command) =>
    command === "status 3" ? status3(clients) : "SUCCESS: done\r\n",
  );
  // The agent talks to <base>/server.sock; a symlink to the fake's socket is the same thing to connect().
  symlinkSync(management.path, join(baseDir, "server.sock"));
  return {
    baseDir,
    management,
    connect(commonName, clientId, connectedAt) {
      clients.set(commonName, { clientId, connectedAt });
      const env = [
        `common_name=${commonName}`,
        `time_unix=${connectedAt}`,
        "trusted_ip=198.51.100.7",
        `trusted_port=${40_000 + clientId}`,
      ];
      management.send(
        `>CLIENT:ESTABLISHED,${clientId}\r\n${env.map((line) => `>CLIENT:ENV,${line}\r\n`).join("")}>CLIENT:ENV,END\r\n`,
      );
    },
    disconnect(commonName, connectedAt) {
      if (clients.get(commonName)?.connectedAt === connectedAt) clients.delete(commonName);
      execFileSync(join(baseDir, "client-hook"), [], {
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          script_type: "client-disconnect",
          time_unix: String(connectedAt),
          common_name: commonName,
          trusted_ip: "198.51.100.7",
          trusted_port: "40000",
          bytes_received: "1000",
          bytes_sent: "2000",
          time_duration: "5",
          dev: "sbs-x",
        },
      });
    },
    close: () => management.close(),
  };
}
