import { execFileSync } from "node:child_process";
import { mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeManagement, startFakeManagement } from "./fake-management.ts";

/**
 * What OpenVPN would do on one switch, without OpenVPN: a fake management interface at the
 * agent's socket path (connects arrive as >CLIENT:ESTABLISHED with a client id, client-kill is
 * recorded), and disconnects through the agent's real client hook program.
 */
export interface SwitchSim {
  readonly baseDir: string;
  readonly management: FakeManagement;
  connect(commonName: string, clientId: number, connectedAtSeconds: number): void;
  disconnect(commonName: string, connectedAtSeconds: number): void;
  close(): Promise<void>;
}

export async function startSwitchSim(): Promise<SwitchSim> {
  const baseDir = mkdtempSync(join(tmpdir(), "sb-switch-sim-"));
  const management = await startFakeManagement((command) =>
    command === "status 3" ? "TITLE\tfake\r\nEND\r\n" : "SUCCESS: done\r\n",
  );
  // The agent talks to <base>/server.sock; a symlink to the fake's socket is the same thing to connect().
  symlinkSync(management.path, join(baseDir, "server.sock"));
  return {
    baseDir,
    management,
    connect(commonName, clientId, connectedAt) {
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
